package main

import (
	"testing"
	"time"
)

func TestStampRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Unix(1763726400, 123456789)
	nalu := makeStamp(4242, at)
	if len(nalu) != stampNALUSize {
		t.Fatalf("stamp is %d bytes, want %d", len(nalu), stampNALUSize)
	}
	for i := 1; i+2 < len(nalu); i++ {
		if nalu[i] == 0 && nalu[i+1] == 0 && nalu[i+2] <= 3 {
			t.Fatalf("stamp needs emulation prevention at byte %d: % x", i, nalu)
		}
	}
	i, sent, ok := parseStamp(nalu)
	if !ok || i != 4242 || sent != at.UnixNano() {
		t.Fatalf("parseStamp = %d, %d, %v", i, sent, ok)
	}
	for _, bad := range [][]byte{
		nalu[:20],
		append([]byte{0x06, 0x05, 48}, make([]byte, 49)...), // another UUID
		append([]byte{0x65}, nalu[1:]...),                   // not an SEI
	} {
		if _, _, ok := parseStamp(bad); ok {
			t.Fatalf("parseStamp accepted % x", bad)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	t.Parallel()
	// utime 250 and stime 50 ticks; the command name has a space and a ')'.
	stat := []byte("4242 (cam gate)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 100 2000000 3000 18446744073709551615")
	got, err := parseStatCPU(stat)
	if err != nil || got != 3*time.Second {
		t.Fatalf("parseStatCPU = %v, %v; want 3s", got, err)
	}
	if _, err := parseStatCPU([]byte("4242 (camgate S 1")); err == nil {
		t.Fatal("a truncated stat line was accepted")
	}
}

func TestParseStatusRSS(t *testing.T) {
	t.Parallel()
	got, err := parseStatusRSS([]byte("Name:\tcamgate\nVmPeak:\t  900 kB\nVmRSS:\t   51234 kB\nThreads:\t9\n"))
	if err != nil || got != 51234 {
		t.Fatalf("parseStatusRSS = %d, %v", got, err)
	}
	if _, err := parseStatusRSS([]byte("Name:\tcamgate\n")); err == nil {
		t.Fatal("no VmRSS accepted")
	}
}

func TestParseSNMPUdp(t *testing.T) {
	t.Parallel()
	snmp := []byte("Ip: Forwarding DefaultTTL\nIp: 1 64\n" +
		"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n" +
		"Udp: 100 2 7 90 5 0 0 0 0\nUdpLite: InDatagrams\nUdpLite: 0\n")
	got, err := parseSNMPUdp(snmp, "RcvbufErrors")
	if err != nil || got != 5 {
		t.Fatalf("RcvbufErrors = %d, %v", got, err)
	}
}

func TestParseMachineCPU(t *testing.T) {
	t.Parallel()
	got, err := parseMachineCPU([]byte("cpu  100 10 50 9000 20 5 5 30 0 0\ncpu0 1 2 3\n"))
	if err != nil || got != 2*time.Second { // 100+10+50+5+5+30 ticks
		t.Fatalf("parseMachineCPU = %v, %v", got, err)
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	d := summarize(ds)
	if d.N != 100 || d.P50 != 50 || d.P95 != 95 || d.P99 != 99 || d.Max != 100 {
		t.Fatalf("summarize = %+v", d)
	}
	if (summarize(nil) != dist{}) {
		t.Fatal("empty input")
	}
}

func TestRSSSlope(t *testing.T) {
	t.Parallel()
	steps := []stepResult{{Viewers: 0, CamgateRSSKB: 90000}, {Viewers: 1, CamgateRSSKB: 49800}, {Viewers: 10, CamgateRSSKB: 51600}, {Viewers: 100, CamgateRSSKB: 69600}}
	got, ok := rssSlope(steps)
	if !ok || got != 200 {
		t.Fatalf("rssSlope = %v, %v; want 200 KB per viewer", got, ok)
	}
}

func TestParseSteps(t *testing.T) {
	t.Parallel()
	l := loadFlags{steps: "1, 10,50"}
	got, err := l.parseSteps()
	if err != nil || len(got) != 3 || got[2] != 50 {
		t.Fatalf("parseSteps = %v, %v", got, err)
	}
	for _, bad := range []string{"10,1", "0", "a", "1,,2"} {
		l.steps = bad
		if _, err := l.parseSteps(); err == nil {
			t.Fatalf("--steps %q accepted", bad)
		}
	}
}

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	text := "# HELP camgate_session_nack_packets_total x\n# TYPE camgate_session_nack_packets_total counter\n" +
		"camgate_session_nack_packets_total{kind=\"live_rest\"} 12\n" +
		"camgate_session_nack_packets_total{kind=\"live_ws\",note=\"a } b\"} 3\n" +
		"camgate_sessions_open 2\ngarbage\nbad_value{a=\"b\"} x\n"
	m := parseMetrics(text)
	if m["camgate_session_nack_packets_total"] != 15 || m["camgate_sessions_open"] != 2 || len(m) != 2 {
		t.Fatalf("parseMetrics = %v", m)
	}
}
