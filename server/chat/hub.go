package chat

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"wsplay/server/broker"
	"wsplay/server/wsconn"
	"wsplay/shared"
)

// hub owns one chat room: the connections in it, who is present, the
// room's message sequence and a tail of its newest messages. Everything it
// owns is touched only by run, its one goroutine; handlers talk to it
// through its channels. That is the classic gorilla hub, with its bugs
// taken out:
//
//   - run never sends into its own channels, so it cannot block on itself;
//   - run never blocks on a client: wsconn.Conn.Enqueue drops a client whose
//     queue is full (close 1008) instead of waiting for it;
//   - nobody closes a client's send queue, so leaving twice, or leaving
//     after being dropped, cannot close it twice;
//   - handlers select on done when they talk to run, so a stopped hub never
//     strands them.
//
// Each broadcast is encoded once and published under the room's key
// through a broker (package broker). The hub is the one subscriber of its
// room's key in this process: what the broker delivers it prepares once,
// as a wsconn.Frame, and hands to every member's queue.
//
// A message is stored (see Store) before it is broadcast: when its sender
// sees it come back, it is stored (on disk, with package store). Storing
// is synchronous in run, which bounds a room's throughput by the store's
// commit rate (some thousands a second for SQLite with WAL) — plenty for a
// playground, and simple to reason about.
//
// Several server processes sharing a room (later, through NATS) would
// replace what sits behind its two seams: presence, and the broker, which
// then carries the room's broadcasts between the processes; each process's
// hub delivers them to its own members.
type hub struct {
	room   string
	cfg    *Config
	log    *slog.Logger
	store  Store
	inUse  func(room string) bool // rooms the store must not evict, for OpenRoom
	fanout broker.Broker          // carries the room's broadcasts under key
	key    string                 // the room's key in fanout

	join    chan joinRequest
	leave   chan *member
	inbound chan inbound
	stop    chan struct{} // closed by rooms to end run
	done    chan struct{} // closed when run has returned

	// For /api/rooms: written by run, read by anyone.
	users, conns atomic.Int64

	// local is the members that deliver reaches. run changes it in
	// place under localMu (a join appends, a leave moves the last member
	// into the leaver's place), and deliver, which a broker may call from
	// any goroutine, reads it under the read lock: a join or a leave costs
	// the same in a room of ten or of ten thousand, where a copy of the
	// list on each would cost members² while a crowd arrives.
	localMu sync.RWMutex
	local   []*member

	// Owned by run.
	members  map[*member]struct{}
	presence Presence
	state    RoomState
	tail     []shared.Message // newest messages, oldest first
	typing   map[string]time.Time
	now      func() time.Time
	// Presence changes not yet broadcast, oldest first, and the timer
	// that flushes them (nil when there are none); see announce. In a big
	// room the members who joined meanwhile get their user list then too,
	// one list for all of them (see handleJoin).
	pendingPresence []shared.Message
	awaitingList    []*member
	flushPresence   <-chan time.Time

	// With a SharedStore (see there): what its Follow delivers, for
	// run; the follow's stop; and the resuming joins that wait for the
	// follow to reach their seq, with the timer that ends their wait.
	shared SharedStore
	// sharedPresence is the presence when it is a SharedPresence: its
	// changes make the announcements, each process telling its own
	// members.
	sharedPresence SharedPresence
	followed       chan shared.Message
	stopFollow     func()
	waiting        []joinRequest
	waitUntil      <-chan time.Time
}

// member is one connection in a room, with the identity the server gave it
// at connect time. Nothing a client sends changes it.
type member struct {
	c    conn
	user string
	idx  int // its place in hub.local, under hub.localMu
}

// conn is what a room needs of a member's connection: a *wsconn.Conn is
// one; unit tests use a wsconntest.Conn.
type conn interface {
	Enqueue(f *wsconn.Frame) bool
	EnqueueAt(f *wsconn.Frame, at time.Time) bool
	Close(code int, reason string)
}

// joinRequest asks to add a member. With resume set, the member reconnects
// and wants the messages after since in epoch.
type joinRequest struct {
	m      *member
	resume bool
	since  uint64
	epoch  string
}

// inbound is a message a member sent, already validated.
type inbound struct {
	m   *member
	msg shared.Message
}

func newHub(room string, cfg *Config, log *slog.Logger, st Store, fanout broker.Broker, inUse func(string) bool, pres Presence) *hub {
	if pres == nil {
		pres = NewMemoryPresence()
	}
	h := &hub{
		inUse:    inUse,
		room:     room,
		cfg:      cfg,
		log:      log.With("room", room),
		store:    st,
		fanout:   fanout,
		key:      Key(room),
		join:     make(chan joinRequest),
		leave:    make(chan *member),
		inbound:  make(chan inbound),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		members:  map[*member]struct{}{},
		presence: pres,
		typing:   map[string]time.Time{},
		now:      time.Now,
	}
	if ss, ok := st.(SharedStore); ok {
		h.shared, h.followed = ss, make(chan shared.Message, 256)
	}
	if sp, ok := pres.(SharedPresence); ok {
		h.sharedPresence = sp
	}
	return h
}

// presenceChanges is the shared presence's changes, nil without one.
func (h *hub) presenceChanges() <-chan PresenceChange {
	if h.sharedPresence == nil {
		return nil
	}
	return h.sharedPresence.Changes()
}

// add joins m to the room; it reports false if the hub has stopped.
func (h *hub) add(j joinRequest) bool {
	select {
	case h.join <- j:
		return true
	case <-h.done:
		return false
	}
}

// remove takes m out of the room. Removing a member twice, or one never
// added, does nothing.
func (h *hub) remove(m *member) {
	select {
	case h.leave <- m:
	case <-h.done:
	}
}

// send hands run a message from m. It waits while run is busy, which slows
// only m's reader.
func (h *hub) send(in inbound) {
	select {
	case h.inbound <- in:
	case <-h.done:
	}
}

// shutdown stops run and waits for it.
func (h *hub) shutdown() {
	close(h.stop)
	<-h.done
}

// Key is a room's key in the broker: every process of a deployment
// publishes and subscribes to a room's broadcasts under it.
func Key(room string) string { return "chat:" + room }

// subscribe makes the hub its room's subscriber in the broker; run calls
// it, and the returned function ends the subscription.
func (h *hub) subscribe() (func(), error) {
	return h.fanout.Subscribe(h.key, h.deliver)
}

// deliver hands a broadcast the broker delivered to every member here. It
// never blocks (see wsconn.Conn.Enqueue), and it reads the clock once for all
// of them, to measure the fan-out latency from.
func (h *hub) deliver(ev broker.Event) {
	pm := wsconn.TextFrame(ev.Data)
	at := time.Now()
	h.localMu.RLock()
	defer h.localMu.RUnlock()
	for _, m := range h.local {
		m.c.EnqueueAt(pm, at)
	}
}

// addMember makes m a member that deliver reaches. Called by run only.
func (h *hub) addMember(m *member) {
	h.members[m] = struct{}{}
	h.localMu.Lock()
	m.idx = len(h.local)
	h.local = append(h.local, m)
	h.localMu.Unlock()
}

// removeMember takes m out. Called by run only, for a member.
func (h *hub) removeMember(m *member) {
	delete(h.members, m)
	h.localMu.Lock()
	last := h.local[len(h.local)-1]
	h.local[m.idx], last.idx = last, m.idx
	h.local[len(h.local)-1] = nil
	h.local = h.local[:len(h.local)-1]
	h.localMu.Unlock()
}

// localCount is how many members deliver reaches.
func (h *hub) localCount() int {
	h.localMu.RLock()
	defer h.localMu.RUnlock()
	return len(h.local)
}

func (h *hub) run() {
	defer close(h.done)
	unsubscribe, err := h.subscribe()
	if err != nil {
		h.log.Error("cannot subscribe to the room's broadcasts", "err", err)
		h.failed()
		return
	}
	defer unsubscribe()
	defer func() {
		if h.stopFollow != nil {
			h.stopFollow()
		}
		if h.sharedPresence != nil {
			h.sharedPresence.Close()
		}
	}()
	changes := h.presenceChanges()
	ctx := context.Background()
	if err := h.open(ctx); err != nil {
		h.log.Error("cannot open the room's history", "err", err)
		h.failed()
		return
	}
	for {
		select {
		case j := <-h.join:
			h.handleJoin(j)
		case m := <-h.leave:
			h.handleLeave(m)
		case in := <-h.inbound:
			switch in.msg.Type {
			case shared.TypeText:
				h.handleText(in)
			case shared.TypeTyping:
				h.handleTyping(in)
			}
		case <-h.flushPresence:
			h.flush()
		case m := <-h.followed:
			h.handleFollowed(m)
		case ch := <-changes:
			typ := shared.TypeJoin
			if !ch.Present {
				typ = shared.TypeLeave
				delete(h.typing, ch.User)
			}
			h.announce(typ, ch.User)
		case <-h.waitUntil:
			h.joinWaiting(true)
		case <-h.stop:
			return
		}
	}
}

// open reads (or creates) the room's history in the store.
func (h *hub) open(ctx context.Context) error {
	st, err := h.store.OpenRoom(ctx, h.room, h.cfg.MaxRooms, h.inUse)
	if err != nil {
		return err
	}
	tail, err := h.store.LastMessages(ctx, h.room, h.tailSize())
	if err != nil {
		return err
	}
	h.state, h.tail = st, tail
	if h.shared != nil {
		if h.stopFollow != nil { // the room starts over: follow its new history
			h.stopFollow()
			for len(h.followed) > 0 {
				<-h.followed
			}
		}
		stop, err := h.shared.Follow(h.room, st.LastSeq, func(m shared.Message) {
			select {
			case h.followed <- m:
			case <-h.stop:
			}
		})
		if err != nil {
			return err
		}
		h.stopFollow = stop
	}
	return nil
}

// handleFollowed takes a message of the room from a shared store's
// follow: the room's next, from this process or another. Anything at or
// before LastSeq it has already (a follow restarted) is skipped.
func (h *hub) handleFollowed(m shared.Message) {
	if m.Seq <= h.state.LastSeq {
		return
	}
	h.flush() // who came and went before this message, comes first
	h.state.LastSeq = m.Seq
	h.tail = append(h.tail, m)
	if over := len(h.tail) - h.tailSize(); over > 0 {
		h.tail = slices.Delete(h.tail, 0, over)
	}
	b, err := shared.Encode(m)
	if err != nil {
		panic("encode a message: " + err.Error()) // only plain types: cannot fail
	}
	h.deliver(broker.Event{Seq: m.Seq, Data: b}) // to this process's members: every process follows
	h.joinWaiting(false)
}

// joinWaiting lets in the resuming joins that the follow has caught up
// with, or all of them when their wait is over.
func (h *hub) joinWaiting(all bool) {
	still := h.waiting[:0]
	for _, j := range h.waiting {
		if all || j.since <= h.state.LastSeq || j.epoch != h.state.Epoch {
			h.joinNow(j)
		} else {
			still = append(still, j)
		}
	}
	clear(h.waiting[len(still):])
	h.waiting = still
	if len(h.waiting) == 0 {
		h.waiting, h.waitUntil = nil, nil
	}
}

// startOver answers a store that no longer has the room (another
// process, or an operator, removed it): the room opens anew, with a new
// epoch, and every member is closed with 1012 so that it reconnects and
// starts from the new history instead of from seqs that mean nothing now.
// What they had sent and not seen acknowledged they send again.
func (h *hub) startOver() {
	h.log.Warn("the room's history is gone from the store: starting it over")
	if err := h.open(context.Background()); err != nil {
		h.log.Error("cannot open the room's history again", "err", err)
	}
	for m := range h.members {
		m.c.Close(websocket.CloseServiceRestart, shared.ReasonRoomReset)
	}
}

// failed serves joins, when the room's history cannot be read, by closing
// them with 1011 until the hub is stopped.
func (h *hub) failed() {
	for {
		select {
		case j := <-h.join:
			j.m.c.Close(websocket.CloseInternalServerErr, shared.ReasonRoomFailed)
		case <-h.leave:
		case <-h.inbound:
		case <-h.stop:
			return
		}
	}
}

// tailSize is how many messages the hub keeps in memory: enough for a
// join's history and for most reconnects, which then need no disk read.
func (h *hub) tailSize() int { return max(h.cfg.HistoryOnJoin, 256) }

func (h *hub) handleJoin(j joinRequest) {
	if h.shared != nil && j.resume && j.epoch == h.state.Epoch && j.since > h.state.LastSeq {
		// The member saw further in another process than this one's
		// follow has come: it waits, so that its history is exact.
		h.waiting = append(h.waiting, j)
		if h.waitUntil == nil {
			h.waitUntil = time.After(ResumeWait)
		}
		return
	}
	h.joinNow(j)
}

// joinNow adds a member and sends it its history and the user list.
func (h *hub) joinNow(j joinRequest) {
	first := h.presence.Add(j.m.user)
	h.addMember(j.m)
	h.updateCounts()
	if first && h.sharedPresence == nil { // a shared presence announces through its changes
		h.announce(shared.TypeJoin, j.m.user)
	}
	for _, page := range pages(h.history(j)) {
		j.m.c.Enqueue(page)
	}
	// The list goes to the new connection only; everyone else updates
	// theirs from join and leave. Broadcasting the whole list on every
	// change, as the tutorial does, costs members² messages of members'
	// size: a room of a few thousand could not be joined. In a big room,
	// where presence changes go in runs, even one list per join would
	// cost that much work and memory while a crowd arrives: the members
	// who joined during a run get one list, made once, after it.
	if len(h.members) > h.cfg.PresenceBatchAbove {
		h.awaitingList = append(h.awaitingList, j.m)
		if h.flushPresence == nil {
			h.flushPresence = time.After(h.cfg.PresenceBatch)
		}
		return
	}
	for _, page := range h.userList() {
		j.m.c.Enqueue(page)
	}
}

// userList is the room's user list, encoded: in pages of at most
// shared.MaxFrame bytes, all but the last marked More.
func (h *hub) userList() []*wsconn.Frame {
	list := shared.Message{Type: shared.TypeUserList, Room: h.room, Users: h.presence.Users(), Timestamp: h.now().UTC()}
	var out []*wsconn.Frame
	for _, page := range userPages(list, true) {
		out = append(out, prepare(page))
	}
	return out
}

// userPages cuts m, a message that lists users, into messages of at
// most shared.MaxFrame bytes each, in order, each with a part of Users.
// With more, every one but the last is marked More (a user list, whose
// pages make one list); without, each stands alone (a run of joins or
// leaves, which may go as several runs).
func userPages(m shared.Message, more bool) []shared.Message {
	page := m
	page.Users, page.More = nil, more
	base, _ := shared.Encode(page)
	runs := shared.Pages(m.Users, shared.MaxFrame-len(base)-len(`,"users":`))
	out := make([]shared.Message, len(runs))
	for i, run := range runs {
		out[i] = m
		out[i].Users, out[i].More = run, more && i < len(runs)-1
		if len(runs) > 1 {
			out[i].Username = "" // only a run of one names its user there
		}
	}
	return out
}

func (h *hub) handleLeave(m *member) {
	if i := slices.IndexFunc(h.waiting, func(j joinRequest) bool { return j.m == m }); i >= 0 {
		h.waiting = slices.Delete(h.waiting, i, i+1) // left before its join was answered
		return
	}
	if _, ok := h.members[m]; !ok {
		return
	}
	h.removeMember(m)
	last := h.presence.Remove(m.user)
	h.updateCounts()
	if !last || h.sharedPresence != nil {
		return // the user still has another connection, or the shared presence will say
	}
	delete(h.typing, m.user)
	h.announce(shared.TypeLeave, m.user)
}

// announce tells the room that user joined or left. In a room of up to
// Config.PresenceBatchAbove members that happens at once. In a bigger one
// every join is a message to every member — a storm of members² messages
// while a crowd arrives — so changes are collected for
// Config.PresenceBatch and sent as runs: one join message listing
// everyone who joined in a row, then one leave message, and so on, in
// order. Replayed in order, the runs leave every member's list equal to
// the room's, including the list a member received when it joined.
func (h *hub) announce(typ shared.Type, user string) {
	now := h.now().UTC()
	if n := len(h.pendingPresence); n > 0 && h.pendingPresence[n-1].Type == typ {
		last := &h.pendingPresence[n-1]
		last.Users = append(last.Users, user)
		last.Username = "" // only a run of one names its user there
	} else {
		h.pendingPresence = append(h.pendingPresence, shared.Message{Type: typ, Room: h.room, Username: user, Users: []string{user}, Timestamp: now})
	}
	switch {
	case len(h.members) <= h.cfg.PresenceBatchAbove:
		h.flush()
	case h.flushPresence == nil:
		h.flushPresence = time.After(h.cfg.PresenceBatch)
	}
}

// flush broadcasts the pending presence changes, then sends the user
// list to the members who joined meanwhile: one list, which already
// holds every change of the runs, in whatever order they arrive.
func (h *hub) flush() {
	for _, run := range h.pendingPresence {
		for _, m := range userPages(run, false) { // a long run goes as several
			if h.sharedPresence != nil {
				// Every process heard the change and tells its own.
				b, err := shared.Encode(m)
				if err != nil {
					panic("encode a message: " + err.Error()) // only plain types: cannot fail
				}
				h.deliver(broker.Event{Data: b})
				continue
			}
			h.broadcast(m)
		}
	}
	if len(h.awaitingList) > 0 {
		list := h.userList()
		for _, m := range h.awaitingList {
			if _, ok := h.members[m]; ok {
				for _, page := range list {
					m.c.Enqueue(page)
				}
			}
		}
	}
	h.pendingPresence, h.awaitingList, h.flushPresence = nil, nil, nil
}

// history answers a join: the newest messages, or for a resuming member
// exactly the ones it missed, or an explicit recovered=false when those
// are gone.
func (h *hub) history(j joinRequest) shared.Message {
	msg := shared.Message{Type: shared.TypeHistory, Room: h.room, Epoch: h.state.Epoch, Seq: h.state.LastSeq, Timestamp: h.now().UTC()}
	if !j.resume {
		msg.Messages = h.latest(h.cfg.HistoryOnJoin)
		return msg
	}
	recovered := false
	if j.epoch == h.state.Epoch && j.since <= h.state.LastSeq {
		// What a join may carry is bounded (Config.HistoryBytes): a
		// client that missed more is told, and gets the newest.
		if missed, ok := h.after(j.since); ok && encodedSize(missed) <= h.cfg.HistoryBytes {
			msg.Messages, recovered = missed, true
		}
	}
	if !recovered {
		msg.Messages = h.latest(h.cfg.HistoryOnJoin)
	}
	msg.Recovered = &recovered
	return msg
}

// encodedSize is the bytes msgs take in a history message.
func encodedSize(msgs []shared.Message) int {
	n := 0
	for _, m := range msgs {
		b, _ := shared.Encode(m)
		n += len(b) + 1
	}
	return n
}

// pages encodes a history message as frames of at most
// shared.MaxFrame bytes each, oldest messages first, every one but
// the last marked More.
func pages(msg shared.Message) []*wsconn.Frame {
	all := msg.Messages
	var out []*wsconn.Frame
	for {
		page := msg
		page.Messages, page.More = nil, false
		base, _ := shared.Encode(page)
		size, n := len(base)+len(`,"messages":[],"more":true`), 0
		for n < len(all) {
			b, _ := shared.Encode(all[n])
			if n > 0 && size+len(b)+1 > shared.MaxFrame {
				break
			}
			size += len(b) + 1
			n++
		}
		page.Messages, page.More = all[:n], n < len(all)
		out = append(out, prepare(page))
		all = all[n:]
		if !page.More {
			return out
		}
	}
}

// latest returns the newest n messages.
func (h *hub) latest(n int) []shared.Message {
	return slices.Clone(h.tail[max(0, len(h.tail)-n):])
}

// after returns every message after seq, from the tail when it reaches
// back far enough, else from the store. ok is false when retention has
// trimmed some of them.
func (h *hub) after(seq uint64) ([]shared.Message, bool) {
	if seq == h.state.LastSeq {
		return nil, true
	}
	if len(h.tail) > 0 && h.tail[0].Seq <= seq+1 {
		i, _ := slices.BinarySearchFunc(h.tail, seq+1, func(m shared.Message, s uint64) int {
			return compare(m.Seq, s)
		})
		return slices.Clone(h.tail[i:]), true
	}
	msgs, complete, err := h.store.MessagesAfter(context.Background(), h.room, seq, h.cfg.HistoryRetention)
	if err != nil {
		h.log.Error("cannot read the room's history", "err", err)
		return nil, false
	}
	return msgs, complete
}

func compare(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (h *hub) handleText(in inbound) {
	m := shared.Message{
		Type:      shared.TypeText,
		Room:      h.room,
		Username:  in.m.user,
		Content:   in.msg.Content,
		ID:        in.msg.ID,
		Timestamp: h.now().UTC(),
	}
	fromClient := m.ID != ""
	if !fromClient {
		m.ID = newID()
	}
	stored, dup, err := h.store.AppendMessage(context.Background(), m, fromClient, h.cfg.HistoryRetention)
	if errors.Is(err, ErrRoomGone) {
		h.startOver()
		return
	}
	if errors.Is(err, ErrUnavailable) {
		h.log.Warn("cannot store a message: the store is out of reach", "err", err)
		in.m.c.Enqueue(prepare(errorMessage(h.room, shared.Errorf(shared.CodeUnavailable, "the message store cannot be reached just now: the message was not stored; send it again in a moment"))))
		return
	}
	if err != nil {
		h.log.Error("cannot store a message", "err", err)
		in.m.c.Enqueue(prepare(errorMessage(h.room, shared.Errorf(shared.CodeInternal, "the message could not be stored; send it again"))))
		return
	}
	if dup {
		// A resend after a reconnect: acknowledge it to its sender only.
		in.m.c.Enqueue(prepare(stored))
		return
	}
	if h.shared != nil {
		return // the follow brings it back, in its place among the other processes'
	}
	h.flush() // who came and went before this message, comes first
	h.state.LastSeq = stored.Seq
	h.tail = append(h.tail, stored)
	if over := len(h.tail) - h.tailSize(); over > 0 {
		h.tail = slices.Delete(h.tail, 0, over)
	}
	h.broadcast(stored)
}

func (h *hub) handleTyping(in inbound) {
	now := h.now()
	if last, ok := h.typing[in.m.user]; ok && now.Sub(last) < shared.TypingExpiry/3 {
		return
	}
	h.typing[in.m.user] = now
	h.broadcast(shared.Message{Type: shared.TypeTyping, Room: h.room, Username: in.m.user, Timestamp: now.UTC()})
}

// broadcast encodes m once and publishes it under the room's key; the
// broker hands it back to deliver, here and in every other process with
// members in the room.
func (h *hub) broadcast(m shared.Message) {
	b, err := shared.Encode(m)
	if err != nil {
		panic("encode a message: " + err.Error()) // only plain types: cannot fail
	}
	if err := h.fanout.Publish(context.Background(), h.key, broker.Event{Seq: m.Seq, Data: b}); err != nil {
		h.log.Error("cannot publish to the room", "err", err)
	}
}

func (h *hub) updateCounts() {
	h.conns.Store(int64(len(h.members)))
	h.users.Store(int64(h.presence.Count()))
}

// prepare encodes m once for any number of connections.
func prepare(m shared.Message) *wsconn.Frame {
	b, err := shared.Encode(m)
	if err != nil {
		panic("encode a message: " + err.Error()) // only plain types: cannot fail
	}
	return wsconn.TextFrame(b)
}

// errorMessage is the protocol message that reports err to a client.
func errorMessage(room string, err *shared.Error) shared.Message {
	m := err.Message()
	m.Room, m.Timestamp = room, time.Now().UTC()
	return m
}
