// Package deps pins the modules the project is adopting until the code that
// uses them lands; it is deleted once every module has a real importer.
package deps

import (
	_ "github.com/andybalholm/brotli"
	_ "github.com/elazarl/goproxy"
	_ "github.com/fatih/color"
	_ "github.com/google/gopacket"
	_ "github.com/google/gopacket/layers"
	_ "github.com/google/gopacket/pcapgo"
	_ "github.com/google/gopacket/reassembly"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/olekukonko/tablewriter"
	_ "golang.org/x/net/idna"
	_ "golang.org/x/net/publicsuffix"
	_ "modernc.org/sqlite"
)
