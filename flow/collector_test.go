package flow

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mrtgo/mrtgo/internal/syncbuf"
)

// Datagrams that are no export are counted against their exporter and logged once per
// reason and minute; the good ones around them are collected.
func TestCollectorCountsBadDatagrams(t *testing.T) {
	var logs syncbuf.Buffer
	var mu sync.Mutex
	var got []Record
	col, err := Listen([]string{"127.0.0.1:0"}, func(r Record) {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
	}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- col.Run(ctx) }()
	defer func() { stop(); <-ran }()

	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(col.Addrs()[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fields := []ipfixField{fSrcAddr, fDstAddr, fProto, fOctets, fPackets}
	for _, b := range [][]byte{
		{0, 7, 1, 2, 3, 4}, {0, 7, 1, 2, 3, 4}, {0, 7, 1, 2, 3, 4}, // version 7: three, logged once
		ipfixMessage(1, ipfixTemplate(256, fields...)),
		ipfixMessage(1, ipfixData(256, fields, []uint64{addr("10.0.0.1"), addr("10.0.0.2"), 17, 500, 5})),
	} {
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ex := col.Exporters()
		if len(ex) == 1 && ex[0].Datagrams == 5 {
			if ex[0].Errors != 3 || ex[0].Records != 1 {
				t.Errorf("exporter %+v, want 3 errors and 1 record", ex[0])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("exporters %+v", ex)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	if len(got) != 1 || got[0].Bytes != 500 || got[0].Proto != 17 {
		t.Errorf("records %+v", got)
	}
	mu.Unlock()
	if n := strings.Count(logs.String(), "datagram not decoded"); n != 1 {
		t.Errorf("%d warnings for three bad datagrams of one reason, want 1:\n%s", n, logs.String())
	}
	if st := col.Decoder().Stats(); st.Errors["version"] != 3 {
		t.Errorf("decoder errors %v", st.Errors)
	}
}
