// Package capture is traffic at rest: HAR read/write, pcap/pcapng read, the
// SQLite capture store. Every reader turns its input into the same
// *traffic.Exchange records, so saved traffic goes through exactly the
// analysis live traffic does.
package capture
