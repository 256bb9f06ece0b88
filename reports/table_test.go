package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s: %v (run go test -update to create it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run go test -update after checking):\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func TestWriteTableGolden(t *testing.T) {
	tests := []struct {
		golden string
		o      Options
		to     TableOptions
	}{
		{"table.golden", Options{}, TableOptions{}},
		{"table-color.golden", Options{}, TableOptions{Color: true}},
		{"table-secrets-narrow.golden", Options{ShowSecrets: true, Site: "www.shop.example"}, TableOptions{Width: 80}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := WriteTable(&buf, sampleReport(t, tt.o), tt.to); err != nil {
			t.Fatalf("%s: WriteTable: %v", tt.golden, err)
		}
		golden(t, tt.golden, buf.Bytes())
	}
}
