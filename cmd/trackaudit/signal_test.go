package main

import (
	"bufio"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test start this test binary as the real trackaudit
// process (TRACKAUDIT_TEST_MAIN=1), so signals reach the real main.
func TestMain(m *testing.M) {
	if os.Getenv("TRACKAUDIT_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestProxyStopsCleanlyOnSignal runs `trackaudit proxy` as a process,
// sends a pixel request through it and then SIGINT or SIGTERM: the process
// must exit 0 after printing the report, and the capture must hold the
// request (mode 0600) for `trackaudit report`.
func TestProxyStopsCleanlyOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cfgHome := t.TempDir()
			caFile, maps := fakeInternet(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "image/gif")
				w.Write([]byte("GIF89a"))
			}), "www.facebook.com")
			db := filepath.Join(t.TempDir(), "live.db")
			args := append([]string{"proxy", "--listen", "127.0.0.1:0", "--capture", db, "--upstream-ca", caFile, "--color", "never"}, maps...)
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), "TRACKAUDIT_TEST_MAIN=1", "XDG_CONFIG_HOME="+cfgHome, "XDG_DATA_HOME="+t.TempDir())
			var stdout syncBuffer
			cmd.Stdout = &stdout
			stderrPipe, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()

			// Read the banner until the listening address shows up, then
			// keep draining stderr so the process never blocks on it.
			var stderr syncBuffer
			addrc := make(chan string, 1)
			go func() {
				re := regexp.MustCompile(`listening on http://(\S+)`)
				sc := bufio.NewScanner(stderrPipe)
				for sc.Scan() {
					stderr.Write([]byte(sc.Text() + "\n"))
					if m := re.FindStringSubmatch(sc.Text()); m != nil {
						addrc <- m[1]
					}
				}
			}()
			var addr string
			select {
			case addr = <-addrc:
			case <-time.After(20 * time.Second):
				t.Fatalf("proxy did not start; stderr:\n%s", stderr.String())
			}

			pixelThroughProxy(t, cfgHome, addr, "Purchase", "https://shop.example/")
			// The live line shows the exchange went through the pipeline.
			for i := 0; i < 100 && !strings.Contains(stdout.String(), "Purchase"); i++ {
				time.Sleep(50 * time.Millisecond)
			}

			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waitc := make(chan error, 1)
			go func() { waitc <- cmd.Wait() }()
			select {
			case err := <-waitc:
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Fatalf("exit code %d after %v, want 0; stderr:\n%s", ee.ExitCode(), sig, stderr.String())
				} else if err != nil {
					t.Fatal(err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("proxy still running 20 s after %v", sig)
			}

			out := stdout.String()
			for _, want := range []string{"Purchase", "trackaudit report", "shop.example"} {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q (live line and report):\n%s", want, out)
				}
			}
			st, err := os.Stat(db)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("capture mode %v, want 0600", st.Mode().Perm())
			}
			rep, _, code := runCLI(t, "report", "--format", "json", db)
			if code != 0 || !strings.Contains(rep, `"Purchase"`) {
				t.Errorf("report on the capture after %v: exit %d, no Purchase event:\n%s", sig, code, rep)
			}
		})
	}
}
