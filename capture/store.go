package capture

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/trackaudit/trackaudit/traffic"
)

// schemaSQL creates an empty capture; STORE.md documents it for people
// who query captures with SQL.
//
//go:embed schema.sql
var schemaSQL string

// StoreSchemaVersion is the capture schema this package writes (PRAGMA
// user_version and meta schema_version). ReadStore reads captures of this
// version and older ones.
const StoreSchemaVersion = 2

const (
	// storeApplicationID is PRAGMA application_id of every capture:
	// "trka" in ASCII. It tells a capture from any other SQLite file.
	storeApplicationID = 0x74726b61
	storeFormat        = "trackaudit-capture"

	// storeFlushInterval bounds how long an added exchange waits in memory
	// before its batch is committed, storeBatchRows how many wait at most.
	// A kill -9 loses at most these; SQLite's WAL keeps every committed
	// batch whatever happens to the process (research
	// reliability-security.md §3.3: "transactions are durable across
	// application crashes regardless of the synchronous setting").
	// (1024 rows measured no cheaper per exchange than 256 under the proxy
	// benchmark and raised its peak RSS by 3.5 MiB.)
	storeFlushInterval = 100 * time.Millisecond
	storeBatchRows     = 256
	// storeBatchBytes also ends a batch once its bodies reach this many
	// bytes, so waiting rows with large bodies do not pile up in memory.
	storeBatchBytes = 8 << 20
	// storeChunkRows exchanges go into one multi-row INSERT: one statement
	// execution per chunk instead of per row saves the per-statement work
	// of database/sql and SQLite (with the header encoder below, a quarter
	// of the store's CPU per small exchange; bench/proxy/README.md). 25
	// columns × 32 rows stays far below SQLite's 32766 bound parameters.
	storeChunkRows = 32
	// storeQueueLen bounds the exchanges queued for the writer; Add blocks
	// when it is full rather than dropping evidence. The writer takes them
	// every storeWriterTick while a batch fills, so the queue holds up to
	// 51,200 exchanges a second without blocking Add.
	storeQueueLen   = 256
	storeWriterTick = 5 * time.Millisecond
)

// StoreMeta describes a capture as a whole; it is written once, into the
// meta table, when the capture is created.
type StoreMeta struct {
	// Tool and Version name the program that wrote the capture
	// ("trackaudit", "0.3.0").
	Tool    string
	Version string
	// Started is when the capture began; zero when unknown.
	Started time.Time
	// Note is free text from the user (what was browsed, why).
	Note string
}

// StoreStats says what ReadStore read.
type StoreStats struct {
	// Meta is the capture's meta table.
	Meta StoreMeta
	// SchemaVersion is the capture's schema version.
	SchemaVersion int
	// Exchanges counts the exchanges handed to fn.
	Exchanges int
	// Findings counts the findings recorded live in the file. ReadStore
	// never returns them: detectors are re-run so new rules apply.
	Findings int
}

// Store writes exchanges into a capture file. Add hands each exchange to
// one writer goroutine, which commits them in small batches, so a crash
// loses at most the last fraction of a second and never damages what was
// committed. A Store is safe for concurrent use.
type Store struct {
	path string
	db   *sql.DB
	// conn is the database's one connection, which the writer holds. It
	// runs its statements on the driver's connection (conn.Raw) with
	// reused arguments: database/sql converted and copied all 832
	// arguments of every chunk, a tenth of the store's allocation.
	conn   *sql.Conn
	insEx  driver.StmtExecContext // one exchange
	insExN driver.StmtExecContext // storeChunkRows exchanges
	insPg  driver.StmtExecContext

	mu     sync.RWMutex // guards closed against sends on queue
	closed bool
	queue  chan *storeRow
	done   chan struct{}

	// pages maps pages already in the file to their id; the writer
	// goroutine owns it, and nextID (the id of the next exchange row: the
	// file is new, so ids start at 1 and are given by the writer, not
	// SQLite), and args (reused statement arguments).
	pages  map[storePageKey]int64
	nextID int64
	args   []driver.NamedValue

	committed atomic.Int64
	errMu     sync.Mutex
	err       error // first write failure; sticky

	closeOnce sync.Once
	closeErr  error
}

// CreateStore creates a new capture file at path and starts its writer.
// It fails if path exists. The file is created with mode 0600 before
// SQLite opens it, so it is never readable by others, whatever the umask;
// SQLite gives its -wal and -shm files the database's mode.
func CreateStore(path string, meta StoreMeta) (*Store, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s: already exists; choose a new capture file name", path)
		}
		return nil, fmt.Errorf("create %s: %w", path, storePathErr(err))
	}
	// A umask such as 0277 narrows 0600 further and SQLite could not write;
	// restoring owner read/write never widens access for anyone else.
	err = f.Chmod(0o600)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("create %s: %w", path, storePathErr(err))
	}
	s, err := openStore(path, meta)
	if err != nil {
		for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
			os.Remove(p)
		}
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return s, nil
}

func openStore(path string, meta StoreMeta) (*Store, error) {
	db, err := sql.Open("sqlite", storeDSN(path, false))
	if err != nil {
		return nil, err
	}
	// One connection: SQLite has one writer, and a pool would turn
	// concurrency into SQLITE_BUSY (reliability-security.md §3.3).
	db.SetMaxOpenConns(1)
	fail := func(err error) (*Store, error) {
		db.Close()
		return nil, err
	}
	tx, err := db.Begin()
	if err != nil {
		return fail(err)
	}
	if _, err := tx.Exec(schemaSQL); err != nil {
		tx.Rollback()
		return fail(fmt.Errorf("create schema: %w", err))
	}
	for _, kv := range [][2]string{
		{"format", storeFormat},
		{"schema_version", fmt.Sprint(StoreSchemaVersion)},
		{"tool", meta.Tool},
		{"version", meta.Version},
		{"started", storeTime(meta.Started)},
		{"note", meta.Note},
	} {
		if _, err := tx.Exec(`INSERT INTO meta (key, value) VALUES (?, ?)`, kv[0], kv[1]); err != nil {
			tx.Rollback()
			return fail(fmt.Errorf("write meta: %w", err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	s := &Store{
		path:   path,
		db:     db,
		queue:  make(chan *storeRow, storeQueueLen),
		done:   make(chan struct{}),
		pages:  map[storePageKey]int64{},
		nextID: 1,
	}
	if s.conn, err = db.Conn(context.Background()); err != nil {
		return fail(err)
	}
	err = s.conn.Raw(func(dc any) error {
		for _, p := range []struct {
			stmt *driver.StmtExecContext
			sql  string
		}{
			{&s.insEx, storeInsertExchanges(1)},
			{&s.insExN, storeInsertExchanges(storeChunkRows)},
			{&s.insPg, `INSERT INTO pages (url, site, title) VALUES (?, ?, ?)`},
		} {
			st, err := dc.(driver.ConnPrepareContext).PrepareContext(context.Background(), p.sql)
			if err != nil {
				return err
			}
			*p.stmt = st.(driver.StmtExecContext)
		}
		return nil
	})
	if err != nil {
		s.closeStmts()
		s.conn.Close()
		return fail(err)
	}
	go s.write()
	return s, nil
}

// Add queues ex to be written. It copies what it needs from ex before it
// returns, except the body slices, which are shared and must not be
// modified afterwards (sources never do). Add blocks only while the queue
// is full. It returns the first write failure of the store, if any, and an
// error after Close.
func (s *Store) Add(ex *traffic.Exchange) error {
	if ex == nil {
		return fmt.Errorf("%s: cannot store a nil exchange", s.path)
	}
	r := newStoreRow(ex)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("%s: capture store is closed", s.path)
	}
	if err := s.failure(); err != nil {
		return err
	}
	s.queue <- r
	return nil
}

// Committed returns how many exchanges are committed to the file so far:
// those survive a crash of the process.
func (s *Store) Committed() int64 { return s.committed.Load() }

// Close commits what is queued and closes the file. It returns the first
// write failure, if any. Calling it again returns the same result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.queue)
		s.mu.Unlock()
		<-s.done
		errs := []error{s.failure(), s.closeStmts(), s.conn.Close()}
		if err := s.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: close: %w", s.path, err))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// closeStmts closes the writer's prepared statements.
func (s *Store) closeStmts() error {
	return s.conn.Raw(func(any) error {
		var errs []error
		for _, st := range []driver.StmtExecContext{s.insEx, s.insExN, s.insPg} {
			if st != nil {
				errs = append(errs, st.(driver.Stmt).Close())
			}
		}
		return errors.Join(errs...)
	})
}

// flush waits until everything added before it is committed.
func (s *Store) flush() error {
	done := make(chan struct{})
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fmt.Errorf("%s: capture store is closed", s.path)
	}
	s.queue <- &storeRow{flushed: done}
	s.mu.RUnlock()
	<-done
	return s.failure()
}

func (s *Store) failure() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

func (s *Store) fail(err error) {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if s.err == nil {
		s.err = fmt.Errorf("%s: write capture: %w", s.path, err)
	}
}

// write is the writer goroutine: it gathers queued rows and commits them
// when storeBatchRows (or storeBatchBytes) are waiting, storeFlushInterval
// after the first of them arrived, on a flush request, or when the queue
// is closed.
//
// While a batch fills, it collects what is queued every storeWriterTick
// instead of waking for each row: under load a wake-up per exchange (and
// the scheduler work behind it) cost more than the row itself. When the
// store is idle it blocks, so an idle proxy costs nothing.
func (s *Store) write() {
	defer close(s.done)
	var pending []*storeRow
	for {
		r, ok := <-s.queue
		if !ok {
			return
		}
		deadline := time.Now().Add(storeFlushInterval)
		pending = append(pending[:0], r)
		bytes := r.size()
		full := r.flushed != nil || bytes >= storeBatchBytes
		open := true
		for open && !full {
			// Take what is queued now, without waiting.
		drain:
			for !full {
				select {
				case r, ok := <-s.queue:
					if !ok {
						open = false
						break drain
					}
					pending = append(pending, r)
					bytes += r.size()
					full = r.flushed != nil || len(pending) >= storeBatchRows || bytes >= storeBatchBytes
				default:
					break drain
				}
			}
			if !open || full {
				break
			}
			wait := min(storeWriterTick, time.Until(deadline))
			if wait <= 0 {
				break
			}
			time.Sleep(wait)
		}
		if s.failure() == nil {
			if err := s.commit(pending); err != nil {
				s.fail(err)
			}
		}
		for _, r := range pending {
			if r.flushed != nil {
				close(r.flushed)
			}
		}
		clear(pending)
		if !open {
			return
		}
	}
}

// commit writes rows in one transaction: new pages first, then the
// exchanges, findings included, in chunks of storeChunkRows (the rest one
// by one).
func (s *Store) commit(rows []*storeRow) error {
	return s.conn.Raw(func(dc any) error { return s.commitRaw(dc.(driver.ConnBeginTx), rows) })
}

func (s *Store) commitRaw(dc driver.ConnBeginTx, rows []*storeRow) error {
	ctx := context.Background()
	tx, err := dc.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return err
	}
	newPages := map[storePageKey]int64{}
	data := make([]*storeRow, 0, len(rows))
	pageIDs := make([]any, 0, len(rows))
	err = func() error {
		for _, r := range rows {
			if r.flushed != nil {
				continue
			}
			var pageID any
			if r.page != nil {
				id, ok := s.pages[*r.page]
				if !ok {
					id, ok = newPages[*r.page]
				}
				if !ok {
					res, err := s.insPg.ExecContext(ctx, storeNamedValues(r.page.url, r.page.site, r.page.title))
					if err != nil {
						return fmt.Errorf("insert page: %w", err)
					}
					if id, err = res.LastInsertId(); err != nil {
						return err
					}
					newPages[*r.page] = id
				}
				pageID = id
			}
			data = append(data, r)
			pageIDs = append(pageIDs, pageID)
		}
		for i := 0; i < len(data); {
			n, stmt := storeChunkRows, s.insExN
			if len(data)-i < storeChunkRows {
				n, stmt = 1, s.insEx
			}
			args := s.args[:0]
			for j := i; j < i+n; j++ {
				args = data[j].appendArgs(args, s.nextID+int64(j), pageIDs[j])
			}
			_, err := stmt.ExecContext(ctx, args)
			clear(args) // drop references to bodies until the next use
			s.args = args[:0]
			if err != nil {
				return fmt.Errorf("insert exchange: %w", err)
			}
			i += n
		}
		return nil
	}()
	if err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for k, id := range newPages {
		s.pages[k] = id
	}
	s.nextID += int64(len(data))
	s.committed.Add(int64(len(data)))
	return nil
}

// storeExchangeColumns are the exchanges columns Add writes, in the order
// of storeRow.appendArgs.
const storeExchangeColumns = `id, source_seq, started, source, client, page_id, page_by, page_ref,
	method, url, host, site, request_proto, request_headers, request_body, request_body_truncated,
	status, response_proto, response_headers, response_body, response_body_truncated,
	host_only, via, cname, error, insecure, findings`

// storeExchangeArgs is the number of storeExchangeColumns.
const storeExchangeArgs = 27

// storeInsertExchanges returns an INSERT of n exchanges rows.
func storeInsertExchanges(n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO exchanges (" + storeExchangeColumns + ") VALUES ")
	row := "(?" + strings.Repeat(", ?", storeExchangeArgs-1) + ")"
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// appendArgs appends r's values for storeExchangeColumns, numbered on
// from the arguments already in args.
func (r *storeRow) appendArgs(args []driver.NamedValue, id int64, pageID any) []driver.NamedValue {
	for _, v := range [...]any{id, r.seq, r.started, r.source, r.client, pageID, r.pageBy, r.pageRef,
		r.method, r.url, r.host, r.site, r.reqProto, r.reqHeaders, r.reqBody, r.reqTrunc,
		r.status, r.respProto, r.respHeaders, r.respBody, r.respTrunc,
		r.hostOnly, r.via, r.cname, r.err, r.insecure, r.findings} {
		args = append(args, driver.NamedValue{Ordinal: len(args) + 1, Value: v})
	}
	return args
}

// storeNamedValues numbers vs as a statement's arguments.
func storeNamedValues(vs ...driver.Value) []driver.NamedValue {
	args := make([]driver.NamedValue, len(vs))
	for i, v := range vs {
		args[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return args
}

// size approximates the memory r holds, for storeBatchBytes.
func (r *storeRow) size() int {
	n := 512 + len(r.url)
	for _, v := range []any{r.reqHeaders, r.reqBody, r.respHeaders, r.respBody} {
		switch v := v.(type) {
		case string:
			n += len(v)
		case []byte:
			n += len(v)
		}
	}
	return n
}

// storeRow is one exchange flattened into column values; a row with
// flushed set carries no data and asks the writer to commit now.
type storeRow struct {
	seq                                      int64
	started                                  any // string or nil
	source, client                           string
	page                                     *storePageKey
	pageBy, pageRef                          string
	method, url, host, site, reqProto        string
	reqHeaders                               any // string or nil
	reqBody                                  any // []byte or nil
	reqTrunc                                 bool
	status, respProto, respHeaders, respBody any // nil when there was no response
	respTrunc                                any
	hostOnly                                 bool
	via, cname, err                          string
	insecure                                 bool
	findings                                 string // JSON array, see storeFindings
	flushed                                  chan struct{}
}

type storePageKey struct{ url, site, title string }

func newStoreRow(ex *traffic.Exchange) *storeRow {
	r := &storeRow{
		seq:      ex.ID,
		source:   ex.Source,
		client:   ex.Client,
		pageRef:  ex.PageRef,
		method:   ex.Request.Method,
		host:     ex.Host(),
		site:     ex.Site(),
		reqProto: ex.Request.Proto,
		reqTrunc: ex.Request.BodyTruncated,
		hostOnly: ex.HostOnly,
		via:      ex.Via,
		cname:    ex.CNAME,
		err:      ex.Error,
		insecure: ex.Insecure,
	}
	if !ex.Start.IsZero() {
		r.started = storeTime(ex.Start)
	}
	if ex.Page != nil {
		r.page = &storePageKey{ex.Page.URL, ex.Page.Site, ex.Page.Title}
		r.pageBy = ex.Page.By
	}
	if ex.Request.URL != nil {
		r.url = ex.Request.URL.String()
	}
	r.reqHeaders = storeHeader(ex.Request.Header)
	r.reqBody = storeBody(ex.Request.Body)
	if resp := ex.Response; resp != nil {
		r.status = int64(resp.Status)
		r.respProto = resp.Proto
		r.respHeaders = storeHeader(resp.Header)
		r.respBody = storeBody(resp.Body)
		r.respTrunc = resp.BodyTruncated
	}
	r.findings = storeFindings(ex.Findings)
	return r
}

// storeFindings encodes fs as the JSON array exchanges.findings holds: per
// finding an object with the findings view's columns (kind, severity,
// detector, company, product, category, rule_id, event, summary, and
// evidence, an array of {where, label, value, secret}). The bytes are
// exactly json.Marshal's of the equivalent structs (storeFinding in the
// tests, which compare the two), written without reflection: it runs once
// per exchange with findings on the proxy's hot path.
func storeFindings(fs []traffic.Finding) string {
	if len(fs) == 0 {
		return "[]"
	}
	size := 2
	for i := range fs {
		f := &fs[i]
		size += len(f.Kind) + len(f.Severity) + len(f.Detector) + len(f.Company) + len(f.Product) +
			len(f.Category) + len(f.RuleID) + len(f.Event) + len(f.Summary) + 128
		for j := range f.Evidence {
			e := &f.Evidence[j]
			size += len(e.Where) + len(e.Label) + len(e.Value) + 48
		}
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteByte('[')
	for i := range fs {
		f := &fs[i]
		if i > 0 {
			b.WriteByte(',')
		}
		for _, kv := range [...][2]string{
			{`{"kind":`, string(f.Kind)}, {`,"severity":`, string(f.Severity)}, {`,"detector":`, f.Detector},
			{`,"company":`, f.Company}, {`,"product":`, f.Product}, {`,"category":`, f.Category},
			{`,"rule_id":`, f.RuleID}, {`,"event":`, f.Event}, {`,"summary":`, f.Summary},
		} {
			b.WriteString(kv[0])
			writeJSONString(&b, kv[1])
		}
		b.WriteString(`,"evidence":[`)
		for j := range f.Evidence {
			e := &f.Evidence[j]
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"where":`)
			writeJSONString(&b, e.Where)
			b.WriteString(`,"label":`)
			writeJSONString(&b, e.Label)
			b.WriteString(`,"value":`)
			writeJSONString(&b, e.Value)
			if e.Secret {
				b.WriteString(`,"secret":true}`)
			} else {
				b.WriteString(`,"secret":false}`)
			}
		}
		b.WriteString("]}")
	}
	b.WriteByte(']')
	return b.String()
}

func storeTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// storeHeader encodes h as a JSON object; nil stays NULL. The bytes are
// exactly json.Marshal's (keys sorted, the same escaping), written without
// reflection: it ran once per message on the proxy's hot path.
func storeHeader(h http.Header) any {
	if h == nil {
		return nil
	}
	var small [16]string
	keys := small[:0]
	size := 2
	for k, vs := range h {
		keys = append(keys, k)
		size += len(k) + 6
		for _, v := range vs {
			size += len(v) + 3
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(size)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, k)
		b.WriteByte(':')
		vs := h[k]
		if vs == nil {
			b.WriteString("null")
			continue
		}
		b.WriteByte('[')
		for j, v := range vs {
			if j > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, v)
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.String()
}

// writeJSONString writes s as json.Marshal writes it: quoted, with '"',
// '\\', control characters, '<', '>', '&', U+2028 and U+2029 escaped and
// each invalid UTF-8 byte replaced by U+FFFD (FuzzStoreHeader and
// FuzzStoreFindings compare the two).
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default: // other control characters, '<', '>', '&'
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
		case r == '\u2028' || r == '\u2029':
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

const hexDigits = "0123456789abcdef"

// jsonPlain marks the ASCII bytes json.Marshal writes as they are.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// storeBody keeps nil (no body) apart from an empty body: the driver
// stores a nil slice as NULL and an empty one as a zero-length BLOB.
func storeBody(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// ReadStore reads the capture at path and hands its exchanges to fn in
// capture order. Exchanges come without Findings: callers re-run the
// detectors so that new rules apply to old captures. It stops at the first
// error from fn and returns it unchanged; its own errors name the file
// ("x.db: not a trackaudit capture: …"). The file is opened read-only and
// may be a capture still being written, or one left by a crash.
func ReadStore(path string, fn func(*traffic.Exchange) error) (StoreStats, error) {
	var st StoreStats
	if err := checkStoreFile(path); err != nil {
		return st, err
	}
	db, err := sql.Open("sqlite", storeDSN(path, true))
	if err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)

	var appID, version int64
	if err := db.QueryRow(`PRAGMA application_id`).Scan(&appID); err != nil {
		return st, storeReadErr(path, "", err)
	}
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return st, storeReadErr(path, "", err)
	}
	if appID != storeApplicationID {
		return st, fmt.Errorf("%s: not a trackaudit capture: SQLite application_id is %#x, want %#x", path, appID, storeApplicationID)
	}
	if version < 1 || version > StoreSchemaVersion {
		return st, fmt.Errorf("%s: capture schema version %d is not one this trackaudit reads (1 to %d); use a newer trackaudit", path, version, StoreSchemaVersion)
	}
	st.SchemaVersion = int(version)

	if err := readStoreMeta(db, &st.Meta); err != nil {
		return st, storeReadErr(path, "read meta", err)
	}
	// Schema 2's findings view expands every row's array; summing the
	// arrays' lengths counts the same without building the rows (0.14
	// instead of 0.97 s for 200k exchanges of four findings).
	countFindings := `SELECT coalesce(sum(json_array_length(findings)), 0) FROM exchanges`
	if version == 1 {
		countFindings = `SELECT count(*) FROM findings`
	}
	if err := db.QueryRow(countFindings).Scan(&st.Findings); err != nil {
		return st, storeReadErr(path, "count findings", err)
	}

	// Columns added within a schema version are absent from older files.
	cname := "e.cname"
	var hasCNAME bool
	if err := db.QueryRow(`SELECT count(*) > 0 FROM pragma_table_info('exchanges') WHERE name = 'cname'`).Scan(&hasCNAME); err != nil {
		return st, storeReadErr(path, "read exchanges", err)
	}
	if !hasCNAME {
		cname = "''"
	}
	rows, err := db.Query(`SELECT e.id, e.source_seq, e.started, e.source, e.client, e.page_by, e.page_ref,
		e.method, e.url, e.request_proto, e.request_headers, e.request_body, e.request_body_truncated,
		e.status, e.response_proto, e.response_headers, e.response_body, e.response_body_truncated,
		e.host_only, e.via, ` + cname + `, e.error, e.insecure, p.url, p.site, p.title
		FROM exchanges e LEFT JOIN pages p ON p.id = e.page_id ORDER BY e.id`)
	if err != nil {
		return st, storeReadErr(path, "read exchanges", err)
	}
	defer rows.Close()
	for rows.Next() {
		ex, err := scanStoreRow(rows)
		if err != nil {
			return st, storeReadErr(path, "read exchanges", err)
		}
		st.Exchanges++
		if err := fn(ex); err != nil {
			return st, err
		}
	}
	if err := rows.Err(); err != nil {
		return st, storeReadErr(path, "read exchanges", err)
	}
	return st, nil
}

func readStoreMeta(db *sql.DB, m *StoreMeta) error {
	rows, err := db.Query(`SELECT key, value FROM meta`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		switch k {
		case "tool":
			m.Tool = v
		case "version":
			m.Version = v
		case "note":
			m.Note = v
		case "started":
			if v != "" {
				t, err := time.Parse(time.RFC3339Nano, v)
				if err != nil {
					return fmt.Errorf("meta started %q: %w", v, err)
				}
				m.Started = t
			}
		}
	}
	return rows.Err()
}

func scanStoreRow(rows *sql.Rows) (*traffic.Exchange, error) {
	var (
		id, seq                      int64
		started, reqHeaders          sql.NullString
		pageBy, pageRef, rawURL      string
		reqBody, respBody            any
		reqTrunc, hostOnly, insecure bool
		status                       sql.NullInt64
		respProto, respHeaders       sql.NullString
		respTrunc                    sql.NullBool
		pageURL, pageSite, pageTitle sql.NullString
		ex                           traffic.Exchange
	)
	if err := rows.Scan(&id, &seq, &started, &ex.Source, &ex.Client, &pageBy, &pageRef,
		&ex.Request.Method, &rawURL, &ex.Request.Proto, &reqHeaders, &reqBody, &reqTrunc,
		&status, &respProto, &respHeaders, &respBody, &respTrunc,
		&hostOnly, &ex.Via, &ex.CNAME, &ex.Error, &insecure, &pageURL, &pageSite, &pageTitle); err != nil {
		return nil, err
	}
	bad := func(what string, err error) (*traffic.Exchange, error) {
		return nil, fmt.Errorf("exchange %d: %s: %w", id, what, err)
	}
	ex.ID, ex.PageRef, ex.HostOnly, ex.Insecure = seq, pageRef, hostOnly, insecure
	if started.Valid && started.String != "" {
		t, err := time.Parse(time.RFC3339Nano, started.String)
		if err != nil {
			return bad("started", err)
		}
		ex.Start = t
	}
	if rawURL != "" {
		u, err := url.Parse(rawURL)
		if err != nil {
			return bad("url", err)
		}
		ex.Request.URL = u
	}
	var err error
	if ex.Request.Header, err = loadStoreHeader(reqHeaders); err != nil {
		return bad("request_headers", err)
	}
	if ex.Request.Body, err = loadStoreBody(reqBody); err != nil {
		return bad("request_body", err)
	}
	ex.Request.BodyTruncated = reqTrunc
	if status.Valid {
		resp := &traffic.Response{Status: int(status.Int64), Proto: respProto.String, BodyTruncated: respTrunc.Bool}
		if resp.Header, err = loadStoreHeader(respHeaders); err != nil {
			return bad("response_headers", err)
		}
		if resp.Body, err = loadStoreBody(respBody); err != nil {
			return bad("response_body", err)
		}
		ex.Response = resp
	}
	if pageURL.Valid {
		ex.Page = &traffic.Page{URL: pageURL.String, Site: pageSite.String, Title: pageTitle.String, By: pageBy}
	}
	return &ex, nil
}

func loadStoreHeader(s sql.NullString) (http.Header, error) {
	if !s.Valid {
		return nil, nil
	}
	var h http.Header
	if err := json.Unmarshal([]byte(s.String), &h); err != nil {
		return nil, err
	}
	if h == nil {
		h = http.Header{}
	}
	return h, nil
}

// loadStoreBody turns a column value back into a body: NULL is nil, a
// zero-length BLOB an empty non-nil slice.
func loadStoreBody(v any) ([]byte, error) {
	switch b := v.(type) {
	case nil:
		return nil, nil
	case []byte: // database/sql already copied it out of the driver
		if b == nil {
			return []byte{}, nil
		}
		return b, nil
	case string: // written by another tool as TEXT
		return []byte(b), nil
	}
	return nil, fmt.Errorf("unexpected %T", v)
}

// checkStoreFile rejects what is plainly not a readable capture before
// SQLite sees it, with a message that says what is wrong with the file.
func checkStoreFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, storePathErr(err))
	}
	if fi.IsDir() {
		return fmt.Errorf("%s: is a directory, not a capture file", path)
	}
	walSize := int64(0)
	if wi, err := os.Stat(path + "-wal"); err == nil {
		walSize = wi.Size()
	}
	if fi.Size() == 0 {
		if walSize == 0 {
			return fmt.Errorf("%s: not a trackaudit capture: empty file", path)
		}
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, storePathErr(err))
	}
	defer f.Close()
	var h [100]byte
	n, err := io.ReadFull(f, h[:])
	if !bytes.HasPrefix(h[:n], []byte("SQLite format 3\x00")) {
		return fmt.Errorf("%s: not a trackaudit capture: not an SQLite database", path)
	}
	if err != nil {
		return fmt.Errorf("%s: capture is truncated: %d bytes, shorter than an SQLite header", path, n)
	}
	// The header's page count is valid when the change counter (offset 24)
	// equals the version-valid-for number (offset 92); see the SQLite file
	// format, "In-header database size". Without a WAL it must fit the file.
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	if walSize == 0 && pages > 0 && bytes.Equal(h[24:28], h[92:96]) && pages*pageSize > fi.Size() {
		return fmt.Errorf("%s: capture is truncated: its header promises %d bytes but the file has %d (cut short by a copy or a full disk?)", path, pages*pageSize, fi.Size())
	}
	return nil
}

// storeReadErr words an SQLite failure for the user, naming the file.
func storeReadErr(path, doing string, err error) error {
	prefix := path + ": "
	if doing != "" {
		prefix += doing + ": "
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("%s: not a trackaudit capture: not an SQLite database", path)
		case sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("%scapture is damaged (%s); try sqlite3 %s .recover", prefix, strings.TrimSpace(firstLine(err.Error())), path)
		}
	}
	return fmt.Errorf("%s%s", prefix, firstLine(err.Error()))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// storeDSN is the modernc.org/sqlite data source name for path: a URI
// filename, so the path is escaped, with the pragmas every connection
// needs. readOnly opens without write access and never creates the file.
func storeDSN(path string, readOnly bool) string {
	var b strings.Builder
	b.WriteString("file:")
	for i := 0; i < len(path); i++ {
		switch c := path[i]; c {
		case '%', '?', '#':
			fmt.Fprintf(&b, "%%%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	if readOnly {
		b.WriteString("?mode=ro&_pragma=busy_timeout(5000)")
	} else {
		b.WriteString("?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	}
	return b.String()
}

// storePathErr drops the *fs.PathError wrapper, whose message repeats the
// path the caller already names.
func storePathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
