package vyomcomm

// #include "vcgo.h"
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sort"
	"sync"
	"time"
	"unsafe"
)

// Log levels of Options.LogLevel, most severe first.
const (
	LogError = 1
	LogWarn  = 2
	LogInfo  = 3
	LogDebug = 4
	LogTrace = 5
)

// Options open a Context (vc_ctx_options). Only StorePath is required.
type Options struct {
	// StorePath is the SQLite database file, created when missing.
	StorePath string
	// SyncFull makes every commit survive power failure (WAL with
	// synchronous=FULL); the default survives a process crash.
	SyncFull bool
	// MasterKey (32 bytes) or Passphrase encrypts provider credentials
	// at rest; without either, channels cannot hold credentials.
	MasterKey  []byte
	Passphrase string
	// KDFIterations for a new passphrase; 0 = the library's default.
	KDFIterations uint32
	// Clock replaces the system clock (tests). It is called from any
	// thread, possibly with library locks held: return the time only.
	Clock func() time.Time
	// Log receives the library's log lines up to LogLevel (default
	// LogInfo), on whichever thread logged, possibly concurrently.
	Log      func(level int, message string)
	LogLevel int
	// RandomSeed seeds ids and jitter; 0 = the system's randomness.
	RandomSeed uint64
	// PublicBaseURL is where providers reach the host's webhooks.
	PublicBaseURL string
	// AllowPrivateNetwork lets provider requests reach loopback and
	// private addresses (a local simulator or gateway).
	AllowPrivateNetwork bool
	// EventConsumer names the stored event-delivery cursor; "" =
	// "default".
	EventConsumer string
}

// Context is a library context over one store (vc_ctx). Its methods are
// safe from any goroutine. Close it last: it stops the engine and frees
// the handles made from it that are still open.
type Context struct {
	mu      sync.RWMutex
	p       *C.vc_ctx
	closeMu sync.Mutex

	regMu sync.Mutex
	reg   map[uint64]regEntry
	next  uint64

	cbMu    sync.Mutex
	cbs     []cgo.Handle // clock and log: live until Close
	eventCb cgo.Handle
}

type regEntry struct {
	p    unsafe.Pointer
	free func(unsafe.Pointer)
}

func (c *Context) register(p unsafe.Pointer, free func(unsafe.Pointer)) uint64 {
	c.regMu.Lock()
	defer c.regMu.Unlock()
	c.next++
	c.reg[c.next] = regEntry{p, free}
	return c.next
}

func (c *Context) unregister(id uint64) {
	c.regMu.Lock()
	delete(c.reg, id)
	c.regMu.Unlock()
}

// Open opens (or creates) the SQLite store at opts.StorePath, migrates
// it, and returns a context over it (vc_store_open_sqlite, vc_ctx_new).
func Open(opts Options) (*Context, error) {
	var a cstrs
	defer a.free()
	var e C.vcgo_err
	if opts.StorePath == "" {
		return nil, goError(codeInvalid, "Options.StorePath is required")
	}
	if opts.MasterKey != nil && len(opts.MasterKey) != C.VC_MASTER_KEY_SIZE {
		return nil, goError(codeInvalid, "Options.MasterKey must be 32 bytes")
	}
	path := a.always(opts.StorePath)
	var so C.vc_sqlite_options
	C.vc_sqlite_options_init(&so, C.VC_SQLITE_OPTIONS_VERSION)
	if opts.SyncFull {
		so.synchronous = C.VC_SQLITE_SYNC_FULL
	}
	var o C.vc_ctx_options
	C.vc_ctx_options_init(&o, C.VC_CTX_OPTIONS_VERSION)
	if opts.MasterKey != nil || opts.Passphrase != "" {
		// In C memory: o (Go memory) points to it, and a Go pointer to
		// Go memory that holds a Go pointer may not be passed to C.
		mk := (*C.vc_master_key)(C.calloc(1, C.size_t(unsafe.Sizeof(C.vc_master_key{}))))
		defer C.free(unsafe.Pointer(mk))
		C.vc_master_key_init(mk, C.VC_MASTER_KEY_VERSION)
		if opts.MasterKey != nil {
			key := C.CBytes(opts.MasterKey)
			defer func() {
				C.memset(key, 0, C.size_t(len(opts.MasterKey)))
				C.free(key)
			}()
			mk.key = (*C.uint8_t)(key)
			mk.key_len = C.size_t(len(opts.MasterKey))
		}
		mk.passphrase = a.str(opts.Passphrase)
		mk.kdf_iterations = C.uint32_t(opts.KDFIterations)
		o.master_key = mk
	}
	o.random_seed = C.uint64_t(opts.RandomSeed)
	o.public_base_url = a.str(opts.PublicBaseURL)
	o.allow_private_network = cbool(opts.AllowPrivateNetwork)
	o.event_consumer = a.str(opts.EventConsumer)
	if a.err != nil {
		return nil, a.err
	}
	c := &Context{reg: map[uint64]regEntry{}}
	if opts.Clock != nil {
		h := cgo.NewHandle(opts.Clock)
		c.cbs = append(c.cbs, h)
		C.vcgo_set_clock(&o, C.uintptr_t(h))
	}
	if opts.Log != nil {
		h := cgo.NewHandle(opts.Log)
		c.cbs = append(c.cbs, h)
		C.vcgo_set_log(&o, C.uintptr_t(h), C.int(opts.LogLevel))
	}
	dropCbs := func() {
		for _, h := range c.cbs {
			h.Delete()
		}
	}
	var store *C.vc_store
	if rc := C.vcgo_store_open_sqlite(&store, path, &so, &e); rc < 0 {
		dropCbs()
		return nil, errorFrom(rc, &e)
	}
	o.store = store
	if rc := C.vcgo_ctx_new(&c.p, &o, &e); rc < 0 {
		C.vc_store_free(store) // still ours when vc_ctx_new fails
		dropCbs()
		return nil, errorFrom(rc, &e)
	}
	runtime.SetFinalizer(c, func(c *Context) { c.Close() })
	return c, nil
}

// Close stops the engine threads, frees every handle made from the
// context that is still open, then the context and its store. Calling it
// again does nothing. A Run waiting in another goroutine is woken and
// finishes its iteration first; later calls return ErrClosed. It must
// not be called from an event handler, nor while a Run in another
// goroutine may deliver events to a handler that calls the library.
func (c *Context) Close() error {
	// One Close at a time: the waker below uses the C pointer.
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	c.mu.RLock()
	if c.p == nil {
		c.mu.RUnlock()
		return nil
	}
	// Join the engine threads first, without the write lock: an event
	// handler running on one may still call the library.
	p := c.p
	C.vc_ctx_stop(p)
	c.mu.RUnlock()

	// A Run waiting for work holds the read lock: wake it until the
	// write lock is ours (a single wakeup may come before it waits).
	// The waker is done before anything is freed.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			C.vc_ctx_wakeup(p)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	c.mu.Lock()
	close(stop)
	wg.Wait()
	defer c.mu.Unlock()
	if c.p == nil {
		return nil
	}
	c.regMu.Lock()
	ids := make([]uint64, 0, len(c.reg))
	for id := range c.reg {
		ids = append(ids, id)
	}
	// Newest first: a campaign goes before the tenant it uses.
	sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
	for _, id := range ids {
		r := c.reg[id]
		r.free(r.p)
		delete(c.reg, id)
	}
	c.regMu.Unlock()
	C.vc_ctx_free(c.p)
	c.p = nil
	c.cbMu.Lock()
	for _, h := range c.cbs {
		h.Delete()
	}
	c.cbs = nil
	if c.eventCb != 0 {
		c.eventCb.Delete()
		c.eventCb = 0
	}
	c.cbMu.Unlock()
	runtime.SetFinalizer(c, nil)
	return nil
}

func (c *Context) acquire() (*C.vc_ctx, error) {
	c.mu.RLock()
	if c.p == nil {
		c.mu.RUnlock()
		return nil, ErrClosed
	}
	return c.p, nil
}

func (c *Context) release() { c.mu.RUnlock() }

// Run runs one engine iteration on the calling goroutine's thread: due
// jobs, then pending events to the handler. When nothing is due it
// waits up to timeout (0: not at all; negative: until woken or the next
// due job). It returns the number of jobs and events handled.
func (c *Context) Run(timeout time.Duration) (int, error) {
	p, err := c.acquire()
	if err != nil {
		return 0, err
	}
	defer c.release()
	ms := C.int(-1)
	if timeout >= 0 {
		ms = C.int(timeout / time.Millisecond)
	}
	var e C.vcgo_err
	rc := C.vcgo_ctx_run(p, ms, &e)
	return int(max0(rc)), errorFrom(rc, &e)
}

func max0(rc C.int) C.int {
	if rc < 0 {
		return 0
	}
	return rc
}

// Start runs the engine on n library threads (1..64) until Stop.
func (c *Context) Start(n int) error {
	p, err := c.acquire()
	if err != nil {
		return err
	}
	defer c.release()
	if n < 1 || n > 64 {
		return goError(codeInvalid, "Start: 1 to 64 threads")
	}
	var e C.vcgo_err
	return errorFrom(C.vcgo_ctx_start(p, C.uint(n), &e), &e)
}

// Stop joins the engine threads; work in progress finishes. ErrState
// when the engine was not started. Not from an event handler.
func (c *Context) Stop() error {
	p, err := c.acquire()
	if err != nil {
		return err
	}
	defer c.release()
	var e C.vcgo_err
	return errorFrom(C.vcgo_ctx_stop(p, &e), &e)
}

// Wakeup wakes the engine threads and any Run waiting.
func (c *Context) Wakeup() error {
	p, err := c.acquire()
	if err != nil {
		return err
	}
	defer c.release()
	var e C.vcgo_err
	return errorFrom(C.vcgo_ctx_wakeup(p, &e), &e)
}

// Now is the context's clock.
func (c *Context) Now() time.Time {
	p, err := c.acquire()
	if err != nil {
		return time.Time{}
	}
	defer c.release()
	return time.UnixMilli(int64(C.vc_ctx_now(p)))
}

// ListenWebhooks serves providers' webhooks on addr ("127.0.0.1:0" picks
// a free port) with the library's built-in listener; it returns the port.
func (c *Context) ListenWebhooks(addr string) (int, error) {
	p, err := c.acquire()
	if err != nil {
		return 0, err
	}
	defer c.release()
	var a cstrs
	defer a.free()
	ca := a.always(addr)
	if a.err != nil {
		return 0, a.err
	}
	var e C.vcgo_err
	rc := C.vcgo_webhook_listen(p, ca, &e)
	return int(max0(rc)), errorFrom(rc, &e)
}

// SetEventHandler sets the function that receives every event in order,
// at least once, on an engine thread (or inside Run), one at a time. A
// non-nil error (or a panic) stops delivery: the same event is offered
// again later. The handler may call the library but must not Close or
// Stop the context. nil removes the handler.
func (c *Context) SetEventHandler(f func(Event) error) error {
	p, err := c.acquire()
	if err != nil {
		return err
	}
	defer c.release()
	c.cbMu.Lock()
	defer c.cbMu.Unlock()
	var h cgo.Handle
	if f != nil {
		h = cgo.NewHandle(f)
	}
	if rc := C.vcgo_set_event_cb(p, C.uintptr_t(h)); rc < 0 {
		if h != 0 {
			h.Delete()
		}
		return goError(int(rc), "vc_ctx_set_event_cb failed")
	}
	// A delivery that started before may still call the old handler
	// (the library reads it once per delivery round): keep it until
	// Close.
	if c.eventCb != 0 {
		c.cbs = append(c.cbs, c.eventCb)
	}
	c.eventCb = h
	return nil
}
