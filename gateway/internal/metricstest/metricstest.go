// Package metricstest reads series from a Prometheus registry in the
// gateway's tests (rtc's and the HTTP shell's share it).
package metricstest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Value gathers reg and returns the value of the series of name with
// exactly the given label values (in the labels' order): a counter's or
// gauge's value, a histogram's sample count; -1 when there is no such
// series.
func Value(t testing.TB, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for i, l := range m.GetLabel() {
				if l.GetValue() != labels[i] {
					continue next
				}
			}
			return ValueOf(m)
		}
	}
	return -1
}

// ValueOf is a series' value: a counter's or gauge's value, a histogram's
// sample count; -1 for another type.
func ValueOf(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return -1
}
