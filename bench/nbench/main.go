// nbench — the NATS JetStream peer's client (the official nats.go client,
// from Debian): publishes of the same events to a file-storage stream,
// WINDOW unacknowledged per client, and replay through a pull consumer.
//
//	nbench setup URL                       create the stream WARTA (file)
//	nbench pub URL CLIENTS WINDOW N        WINDOW=1: js.Publish; else
//	                                       PublishAsync, MaxPending WINDOW
//	nbench replay URL                      fetch batches of 10000 from seq 1
//
// The events are the C tools' own, written by `wbench events FILE`
// (4-byte little-endian length, then the body) and named by NBENCH_EVENTS.
package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

func die(f string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "nbench: "+f+"\n", a...)
	os.Exit(1)
}

func connect(url string) (*nats.Conn, nats.JetStreamContext) {
	nc, err := nats.Connect(url)
	if err != nil {
		die("connect: %v", err)
	}
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(65536))
	if err != nil {
		die("jetstream: %v", err)
	}
	return nc, js
}

// quantile of sorted samples, in ms
func q(s []time.Duration, p float64) float64 {
	if len(s) == 0 {
		return -1
	}
	k := int(p*float64(len(s)-1) + 0.5)
	return float64(s[k].Nanoseconds()) / 1e6
}

func pubClient(url string, window, first, quota int, events [][]byte,
	lat *[]time.Duration, wg *sync.WaitGroup) {
	defer wg.Done()
	nc, js := connect(url)
	defer nc.Close()
	subj := []string{"warta.meeting", "warta.training", "warta.attache"}
	out := make([]time.Duration, 0, quota)
	if window == 1 {
		for i := 0; i < quota; i++ {
			n := first + i
			t := time.Now()
			if _, err := js.Publish(subj[n%3], events[n%len(events)]); err != nil {
				die("publish: %v", err)
			}
			out = append(out, time.Since(t))
		}
	} else {
		type fl struct {
			f nats.PubAckFuture
			t time.Time
		}
		q := make([]fl, 0, window)
		wait := func(x fl) {
			select {
			case <-x.f.Ok():
			case err := <-x.f.Err():
				die("publish: %v", err)
			}
			out = append(out, time.Since(x.t))
		}
		for i := 0; i < quota; i++ {
			n := first + i
			if len(q) == window {
				wait(q[0])
				q = q[1:]
			}
			t := time.Now()
			f, err := js.PublishAsync(subj[n%3], events[n%len(events)])
			if err != nil {
				die("publish: %v", err)
			}
			q = append(q, fl{f, t})
		}
		for _, x := range q {
			wait(x)
		}
	}
	*lat = out
}

// the events of the mix, as wbench wrote them
func loadEvents() [][]byte {
	data, err := os.ReadFile(os.Getenv("NBENCH_EVENTS"))
	if err != nil {
		die("NBENCH_EVENTS: %v", err)
	}
	var out [][]byte
	for len(data) >= 4 {
		n := int(data[0]) | int(data[1])<<8 | int(data[2])<<16 | int(data[3])<<24
		out = append(out, data[4:4+n])
		data = data[4+n:]
	}
	return out
}

func main() {
	if len(os.Args) < 3 {
		die("usage: see bench/nbench/main.go")
	}
	url := os.Args[2]
	switch os.Args[1] {
	case "setup":
		nc, js := connect(url)
		_, err := js.AddStream(&nats.StreamConfig{Name: "WARTA",
			Subjects: []string{"warta.>"}, Storage: nats.FileStorage})
		if err != nil {
			die("add stream: %v", err)
		}
		fmt.Println("{\"stream\":\"WARTA\"}")
		nc.Close()
	case "pub":
		clients, _ := strconv.Atoi(os.Args[3])
		window, _ := strconv.Atoi(os.Args[4])
		n, _ := strconv.Atoi(os.Args[5])
		events := loadEvents()
		lats := make([][]time.Duration, clients)
		var wg sync.WaitGroup
		t0 := time.Now()
		first := 0
		for i := 0; i < clients; i++ {
			quota := n / clients
			if i < n%clients {
				quota++
			}
			wg.Add(1)
			go pubClient(url, window, first, quota, events, &lats[i], &wg)
			first += quota
		}
		wg.Wait()
		secs := time.Since(t0).Seconds()
		var all []time.Duration
		for _, l := range lats {
			all = append(all, l...)
		}
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		fmt.Printf("{\"clients\":%d,\"window\":%d,\"acked\":%d,\"secs\":%.3f,"+
			"\"rate\":%.0f,\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"p999_ms\":%.4f,"+
			"\"samples\":%d}\n", clients, window, len(all), secs,
			float64(len(all))/secs, q(all, 0.5), q(all, 0.99), q(all, 0.999),
			len(all))
	case "replay":
		nc, js := connect(url)
		info, err := js.StreamInfo("WARTA")
		if err != nil {
			die("stream info: %v", err)
		}
		total := info.State.Msgs
		sub, err := js.PullSubscribe("warta.>", "", nats.AckNone(),
			nats.DeliverAll(), nats.BindStream("WARTA"))
		if err != nil {
			die("pull subscribe: %v", err)
		}
		t0 := time.Now()
		var items uint64
		var bytes int
		for items < total {
			msgs, err := sub.Fetch(10000, nats.MaxWait(10*time.Second))
			if err != nil {
				die("fetch after %d: %v", items, err)
			}
			for _, m := range msgs {
				bytes += len(m.Data)
			}
			items += uint64(len(msgs))
		}
		secs := time.Since(t0).Seconds()
		fmt.Printf("{\"items\":%d,\"bytes\":%d,\"secs\":%.3f,\"rate\":%.0f}\n",
			items, bytes, secs, float64(items)/secs)
		nc.Close()
	default:
		die("unknown command %s", os.Args[1])
	}
}
