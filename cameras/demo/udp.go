package demo

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// listenUDPPair binds an even RTP port and the odd RTCP port after it on
// host. gortsplib insists on that pairing and rejects port 0, so the demo
// binds the pair itself and hands the sockets over through
// gortsplib.Server.ListenPacket; tests then never need a fixed UDP port.
func listenUDPPair(host string) (rtp, rtcp *net.UDPConn, err error) {
	network := "udp"
	if ip := net.ParseIP(host); ip != nil {
		if ip.To4() != nil {
			network = "udp4"
		} else {
			network = "udp6"
		}
	}
	listen := func(port int) (*net.UDPConn, error) {
		pc, err := net.ListenPacket(network, net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, err
		}
		return pc.(*net.UDPConn), nil
	}

	var lastErr error
	// A free even/odd pair is almost always found at once; a few retries
	// cover the case where the neighbour port is taken.
	for range 32 {
		first, err := listen(0)
		if err != nil {
			return nil, nil, fmt.Errorf("bind UDP on %q: %w", host, err)
		}
		port := first.LocalAddr().(*net.UDPAddr).Port
		if port%2 == 0 {
			second, err := listen(port + 1)
			if err == nil {
				return first, second, nil
			}
			lastErr = err
		} else if port > 1024 {
			second, err := listen(port - 1)
			if err == nil {
				return second, first, nil
			}
			lastErr = err
		}
		first.Close()
	}
	return nil, nil, fmt.Errorf("bind a consecutive UDP port pair on %q: %w", host, errors.Join(errors.New("no free pair found"), lastErr))
}
