// Command readpcap runs capture.ReadPCAP alone over capture files and
// prints what it found: the pcap benchmark's measure of the reader
// without the detectors and reports.
//
//	go run ./bench/pcap/readpcap [-cpuprofile FILE] FILE.pcap ...
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/trackaudit/trackaudit/capture"
	"github.com/trackaudit/trackaudit/traffic"
)

func main() {
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the reading to `file`")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: readpcap [-cpuprofile FILE] FILE.pcap ...")
		os.Exit(2)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "readpcap:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "readpcap:", err)
			os.Exit(1)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	for _, name := range flag.Args() {
		if err := read(name); err != nil {
			fmt.Fprintln(os.Stderr, "readpcap:", err)
			pprof.StopCPUProfile()
			os.Exit(1)
		}
	}
}

func read(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	cookies := 0
	st, err := capture.ReadPCAP(bufio.NewReaderSize(f, 1<<16), name, func(ex *traffic.Exchange) error {
		if ex.Request.Header.Get("Cookie") != "" {
			cookies++
		}
		return nil
	})
	el := time.Since(start)
	fmt.Printf("%s: %d packets, %.1f MB, %d exchanges (%d with cookies), %d contacts, %d skipped in %.3fs: %.0f MB/s, %.0f requests/s\n",
		name, st.Packets, float64(st.Bytes)/1e6, st.Exchanges, cookies, st.Contacts, st.Skipped, el.Seconds(),
		float64(st.Bytes)/1e6/el.Seconds(), float64(st.Exchanges)/el.Seconds())
	return err
}
