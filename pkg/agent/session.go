package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/anomalyd/anomalyd/pkg/state"
	"github.com/anomalyd/anomalyd/pkg/udfpb"
)

// Queue sizes of a session. The worker queue is bounded by points as well
// (Config.MaxQueuedPoints); outQueue bounds the responses waiting for the
// writer (a full one makes the worker, never the keepalive path, wait).
const (
	workQueue     = 4096
	outQueue      = 1024
	freeBatches   = 4
	readBufSize   = 64 << 10
	writeBufSize  = 64 << 10
	keepFrameSize = 4 << 20 // a larger read buffer is dropped after use
)

type workKind uint8

const (
	workBatch workKind = iota
	workSnapshot
	workRestore
)

// workItem is what the reader hands the worker, in stream order.
type workItem struct {
	kind     workKind
	key      string
	meta     state.Meta
	batch    *state.Batch
	snapshot []byte
	oversize uint64 // a restore whose snapshot exceeded MaxFrameSize was skipped
}

// outMsg is what the writer sends: a response, or (close) the order to
// flush and close the connection.
type outMsg struct {
	resp  *udfpb.Response
	close bool
}

// batchCounts counts what happened to the points of the current batch.
type batchCounts struct {
	points, missing, nonFinite, nonNumeric, badTags, overCap int
}

// session serves one connection. The reader (run's goroutine) decodes
// frames, answers info and init, queues keepalive echoes for the writer and
// everything else for the worker; the worker owns the state and runs
// detection; the writer owns the write side. See DESIGN.md and
// docs/daemon.md.
type session struct {
	srv   *Server
	id    uint64 // the connection's ID, logged as "conn"
	cfg   Config
	stats *Stats
	node  *NodeStats // set at init
	conn  Conn
	log   atomic.Pointer[zap.Logger] // gains task and node at init; read by all three goroutines

	out        chan outMsg
	ka         chan struct{} // a keepalive echo is due
	kaTime     atomic.Int64
	work       chan workItem
	queued     atomic.Int64 // points in work
	free       chan *state.Batch
	writerDone chan struct{}
	workerDone chan struct{}

	failed    atomic.Bool // the connection ends badly: drop remaining work
	closing   atomic.Bool // the connection is closed on purpose: read errors are expected
	closeOnce sync.Once
	drain     atomic.Pointer[time.Timer]

	// Reader state. opts, task and node are set before the worker starts.
	opts     Options
	inited   bool
	dataSeen bool
	inBatch  bool
	begin    beginFrame
	bb       batchBuilder
	pf       pointFrame
	counts   batchCounts
	req      udfpb.Request
	debug    bool
}

func newSession(srv *Server, conn Conn, log *zap.Logger) *session {
	s := &session{
		srv:        srv,
		cfg:        srv.cfg,
		stats:      &srv.stats,
		conn:       conn,
		out:        make(chan outMsg, outQueue),
		ka:         make(chan struct{}, 1),
		work:       make(chan workItem, workQueue),
		free:       make(chan *state.Batch, freeBatches),
		writerDone: make(chan struct{}),
		workerDone: make(chan struct{}),
		debug:      log.Core().Enabled(zap.DebugLevel),
	}
	s.log.Store(log)
	return s
}

func (s *session) logger() *zap.Logger { return s.log.Load() }

// run serves the connection and closes it.
func (s *session) run(ctx context.Context) error {
	go s.writer()
	// Shutdown also bounds the work queued before an EOF, so the watcher
	// stays until the worker is done.
	stop := context.AfterFunc(ctx, s.shutdown)
	err := s.reader()
	if !s.inited {
		close(s.workerDone) // no worker was started
	}
	<-s.workerDone
	stop()
	close(s.out)
	<-s.writerDone
	s.closeConn()
	if t := s.drain.Load(); t != nil {
		t.Stop()
	}
	if s.inited {
		s.srv.removeNode(s.id)
	}
	log := s.logger()
	if s.inBatch {
		log = log.With(zap.String("group", s.begin.group))
	}
	if err != nil {
		log.Warn("connection ended", zap.Error(err))
	} else {
		log.Debug("connection ended")
	}
	return err
}

// shutdown stops reading (the server is shutting down); the queued work
// gets Config.ShutdownTimeout before the connection is closed.
func (s *session) shutdown() {
	s.closing.Store(true)
	if !stopReading(s.conn) {
		s.closeConn()
	}
	s.drain.Store(time.AfterFunc(s.cfg.ShutdownTimeout, func() {
		s.failed.Store(true)
		s.closeConn()
	}))
}

func (s *session) closeConn() {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		if err := s.conn.Close(); err != nil {
			s.logger().Debug("close", zap.Error(err))
		}
	})
}

// send queues r for the writer; false if the writer is gone.
func (s *session) send(r *udfpb.Response) bool {
	select {
	case s.out <- outMsg{resp: r}:
		return true
	case <-s.writerDone:
		return false
	}
}

// sendClose makes the writer flush and close the connection, which ends
// the reader's blocked read.
func (s *session) sendClose() {
	s.closing.Store(true)
	select {
	case s.out <- outMsg{close: true}:
	case <-s.writerDone:
	}
}

// recovered handles a panic in one of the session's goroutines: it is
// logged with its stack, counted, and ends this connection only.
func (s *session) recovered(where string, p any) error {
	s.stats.Panics.Add(1)
	s.failed.Store(true)
	s.logger().Error("panic, closing the connection", zap.String("in", where), zap.Any("panic", p), zap.ByteString("stack", debug.Stack()))
	return fmt.Errorf("panic in %s: %v", where, p)
}

// errStop ends the reader without an error of its own (init failed).
var errStop = errors.New("stop reading")

// reader reads and dispatches frames until the input ends. It closes the
// worker's queue when it returns.
func (s *session) reader() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = s.recovered("reader", p)
			s.send(errorResponse("anomalyd internal error, see its log"))
		}
		if s.inited {
			close(s.work)
		}
		if s.inBatch && err == nil {
			s.logger().Warn("input ended inside a batch, dropping it", zap.String("group", s.begin.group), zap.Int("points", s.counts.points))
		}
	}()
	fr := newFrameReader(s.conn, readBufSize, s.cfg.MaxFrameSize)
	for {
		frame, err := fr.next()
		if err != nil {
			if big := (*oversizeError)(nil); errors.As(err, &big) && s.oversizeRestore(fr, big.size) {
				continue
			}
			switch {
			case errors.Is(err, io.EOF):
				return nil // Kapacitor's half-close
			case s.closing.Load():
				return nil // shutdown, or we closed after init/restore failed
			case errors.Is(err, ErrFrameTooLarge), errors.Is(err, ErrProtocol), errors.Is(err, io.ErrUnexpectedEOF):
				return s.protocolError(err)
			}
			return fmt.Errorf("read: %w", err)
		}
		if err := s.handle(frame); err != nil {
			if errors.Is(err, errStop) {
				return nil
			}
			return s.protocolError(err)
		}
	}
}

// oversizeRestore handles a restore request larger than MaxFrameSize: a
// snapshot grown past the limit must not fail the task, so it is skipped
// unread and treated like any unusable snapshot. It reports false if the
// frame is not a restore where one is allowed.
func (s *session) oversizeRestore(fr *frameReader, size uint64) bool {
	if !s.inited || s.dataSeen {
		return false
	}
	if b, err := fr.r.Peek(1); err != nil || b[0] != 5<<3|2 { // Request.restore, length-delimited
		return false
	}
	if err := fr.skip(size); err != nil {
		return false
	}
	s.enqueue(workItem{kind: workRestore, oversize: size})
	return true
}

// protocolError answers a protocol violation with an ErrorResponse; the
// connection then ends.
func (s *session) protocolError(err error) error {
	s.stats.ProtocolErrors.Add(1)
	s.failed.Store(true)
	s.send(errorResponse(err.Error()))
	return err
}

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// handle dispatches one frame.
func (s *session) handle(frame []byte) error {
	num, payload, err := splitRequest(frame)
	if err != nil {
		return err
	}
	switch num {
	case 0:
		return protoErr("request without a message")
	case reqBegin:
		return s.handleBegin(payload)
	case reqPoint:
		return s.handlePoint(payload)
	case reqEnd:
		return s.handleEnd(payload)
	}
	proto.Reset(&s.req)
	if err := proto.Unmarshal(frame, &s.req); err != nil {
		return fmt.Errorf("%w: decode request: %w", ErrProtocol, err)
	}
	switch m := s.req.GetMessage().(type) {
	case *udfpb.Request_Info:
		s.send(&udfpb.Response{Message: &udfpb.Response_Info{Info: &udfpb.InfoResponse{
			Wants:    udfpb.EdgeType_BATCH,
			Provides: udfpb.EdgeType_STREAM,
			Options:  optionInfo(),
		}}})
	case *udfpb.Request_Keepalive:
		s.kaTime.Store(m.Keepalive.GetTime())
		select {
		case s.ka <- struct{}{}:
		default: // an echo is already due; Kapacitor does not check the value
		}
	case *udfpb.Request_Init:
		return s.handleInit(m.Init)
	case *udfpb.Request_Snapshot:
		if !s.inited {
			return protoErr("snapshot before init")
		}
		s.enqueue(workItem{kind: workSnapshot})
	case *udfpb.Request_Restore:
		switch {
		case !s.inited:
			return protoErr("restore before init")
		case s.dataSeen:
			return protoErr("restore after data")
		}
		s.enqueue(workItem{kind: workRestore, snapshot: m.Restore.GetSnapshot()})
	default:
		return protoErr("unexpected request %T", m)
	}
	return nil
}

func (s *session) handleInit(req *udfpb.InitRequest) error {
	if s.inited {
		return protoErr("second init")
	}
	s.log.Store(s.logger().With(zap.String("task", req.GetTaskID()), zap.String("node", req.GetNodeID())))
	opts, err := ParseOptionsWith(s.cfg.Defaults, req.GetOptions())
	if err != nil {
		s.stats.InitFailures.Add(1)
		s.logger().Warn("init failed", zap.Error(err))
		s.send(&udfpb.Response{Message: &udfpb.Response_Init{Init: &udfpb.InitResponse{Success: false, Error: err.Error()}}})
		return errStop // flush, close
	}
	s.opts, s.inited = opts, true
	s.node = new(NodeStats)
	s.srv.addNode(Node{Conn: s.id, Task: req.GetTaskID(), Node: req.GetNodeID(), Stats: s.node})
	store := state.New(state.Config{Period: opts.Period, History: opts.History, MaxGroups: s.cfg.MaxGroups})
	go s.worker(s.srv.newDetector(), store)
	s.logger().Info("task node initialised", zap.String("field", opts.Field), zap.Duration("period", opts.Period),
		zap.Duration("history", opts.History), zap.Stringer("emit", opts.Emit))
	s.send(&udfpb.Response{Message: &udfpb.Response_Init{Init: &udfpb.InitResponse{Success: true}}})
	return nil
}

// enqueue hands a snapshot or restore request to the worker. It waits if
// the queue is full (workQueue items), which only a flood of requests can
// cause.
func (s *session) enqueue(it workItem) {
	select {
	case s.work <- it:
	case <-s.workerDone:
	}
}

func (s *session) handleBegin(payload []byte) error {
	switch {
	case !s.inited:
		return protoErr("batch before init")
	case s.inBatch:
		return protoErr("begin inside a batch")
	}
	b, err := decodeBegin(payload)
	if err != nil {
		return err
	}
	s.begin, s.inBatch, s.dataSeen, s.counts = b, true, true, batchCounts{}
	s.bb.b = s.batchBuf()
	s.bb.reset()
	if n := int(min(max(b.size, 0), int64(s.cfg.MaxBatchPoints), 1<<16)); n > cap(s.bb.b.Times) {
		// BeginBatch.size is a hint: trust it up to a modest size.
		s.bb.b.Times = slices.Grow(s.bb.b.Times, n)
		s.bb.b.Values = slices.Grow(s.bb.b.Values, n)
		s.bb.b.TagIdx = slices.Grow(s.bb.b.TagIdx, n)
	}
	return nil
}

func (s *session) handlePoint(payload []byte) error {
	switch {
	case !s.inited:
		return protoErr("point before init")
	case !s.inBatch:
		return protoErr("point outside a batch: anomalyd wants BATCH input, feed it from |query or |window")
	}
	p := &s.pf
	if err := decodePoint(payload, s.opts.Field, p); err != nil {
		return err
	}
	c := &s.counts
	c.points++
	var skip *int
	switch {
	case p.kind == fieldNone:
		skip = &c.missing
	case p.kind == fieldString || p.kind == fieldBool:
		skip = &c.nonNumeric
	case math.IsNaN(p.value) || math.IsInf(p.value, 0):
		skip = &c.nonFinite
	case s.bb.b.Len() >= s.cfg.MaxBatchPoints:
		skip = &c.overCap
	}
	if skip == nil {
		idx, ok := s.bb.tagSet(p.tags)
		if ok {
			s.bb.b.Append(p.time, p.value, idx)
			return nil
		}
		skip = &c.badTags
	}
	*skip++
	if s.debug {
		s.logger().Debug("point skipped", zap.String("group", s.begin.group), zap.Int64("time", p.time), zap.String("reason", skipReason(c, skip)))
	}
	return nil
}

func skipReason(c *batchCounts, p *int) string {
	switch p {
	case &c.missing:
		return "missing field"
	case &c.nonNumeric:
		return "non-numeric field"
	case &c.nonFinite:
		return "NaN or infinite value"
	case &c.overCap:
		return "batch over max-batch-points"
	}
	return "tags not valid UTF-8"
}

func (s *session) handleEnd(payload []byte) error {
	if !s.inBatch {
		return protoErr("end outside a batch")
	}
	if err := checkMessage(payload, "end"); err != nil {
		return err
	}
	s.inBatch = false
	c := s.counts
	st := s.stats
	st.BatchesIn.Add(1)
	st.PointsIn.Add(uint64(c.points))
	s.node.BatchesIn.Add(1)
	s.node.PointsIn.Add(uint64(c.points))
	if skipped := c.missing + c.nonFinite + c.nonNumeric + c.badTags + c.overCap; skipped > 0 {
		s.node.PointsDropped.Add(uint64(skipped))
		st.PointsMissingField.Add(uint64(c.missing))
		st.PointsNonFinite.Add(uint64(c.nonFinite))
		st.PointsNonNumeric.Add(uint64(c.nonNumeric))
		st.PointsBadTags.Add(uint64(c.badTags))
		st.PointsOverBatchCap.Add(uint64(c.overCap))
		s.logger().Warn("skipped bad points", zap.String("group", s.begin.group), zap.String("field", s.opts.Field),
			zap.Int("points", c.points), zap.Int("missing_field", c.missing), zap.Int("non_finite", c.nonFinite),
			zap.Int("non_numeric", c.nonNumeric), zap.Int("bad_tags", c.badTags), zap.Int("over_batch_cap", c.overCap))
	}
	b := s.bb.b
	s.bb.b = nil
	n := b.Len()
	if n == 0 {
		s.recycle(b)
		return nil
	}
	if s.queued.Add(int64(n)) > int64(s.cfg.MaxQueuedPoints) {
		s.dropBatch(b, "queued points over max-queued-points")
		return nil
	}
	select {
	case s.work <- workItem{kind: workBatch, key: s.begin.group, batch: b,
		meta: state.Meta{Name: s.begin.name, ByName: s.begin.byName, Tags: s.begin.tags}}:
	default:
		s.dropBatch(b, "worker queue full")
	}
	return nil
}

func (s *session) dropBatch(b *state.Batch, why string) {
	s.queued.Add(-int64(b.Len()))
	s.stats.BatchesOverQueue.Add(1)
	s.stats.PointsOverQueue.Add(uint64(b.Len()))
	s.node.PointsDropped.Add(uint64(b.Len()))
	s.logger().Warn("batch dropped: detection cannot keep up", zap.String("group", s.begin.group), zap.Int("points", b.Len()), zap.String("reason", why))
	s.recycle(b)
}

func (s *session) batchBuf() *state.Batch {
	select {
	case b := <-s.free:
		return b
	default:
		return new(state.Batch)
	}
}

// recycle keeps b for a later batch unless enough are kept or it is large.
func (s *session) recycle(b *state.Batch) {
	if cap(b.Times) > 1<<16 {
		return
	}
	select {
	case s.free <- b:
	default:
	}
}

func errorResponse(msg string) *udfpb.Response {
	return &udfpb.Response{Message: &udfpb.Response_Error{Error: &udfpb.ErrorResponse{Error: msg}}}
}
