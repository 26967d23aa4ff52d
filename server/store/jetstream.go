package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"wsplay/server/chat"
	"wsplay/shared"
)

// JetStreamChat is a [chat.Store] in NATS JetStream, for several server
// processes that share one NATS server: each room is a stream, so NATS,
// not any process, numbers a room's messages, and every process answers
// a resume the same way.
//
//   - A room's stream is named ChatStreamPrefix and the room in unpadded
//     base64url (room names may hold dots, which subjects and stream names
//     cannot), and takes the one subject ChatSubjectPrefix + the same.
//   - The stream sequence is the message's seq; MaxMsgs is the retention
//     (the keep of the latest AppendMessage).
//   - The room's epoch is in the stream's metadata, set when the stream is
//     made: a room that is deleted and made again has a new one.
//   - A client's message carries user/id as its Nats-Msg-Id, so a resend
//     within the stream's duplicate window (DuplicateWindow) is not
//     stored again; the earlier message is read back by its seq.
type JetStreamChat struct {
	js jetstream.JetStream
}

const (
	// ChatStreamPrefix starts the name of every room's stream.
	ChatStreamPrefix = "WSPLAY_CHAT_"
	// ChatSubjectPrefix starts the subject of every room's stream.
	ChatSubjectPrefix = "wsplay.chat."
	// DuplicateWindow is how long a room's stream remembers the ids of
	// client messages, to take a resend as the message it repeats.
	DuplicateWindow = 10 * time.Minute
	epochKey        = "wsplay_epoch"
)

// NewJetStreamChat returns a chat store in js.
func NewJetStreamChat(js jetstream.JetStream) *JetStreamChat { return &JetStreamChat{js: js} }

func roomToken(room string) string { return base64.RawURLEncoding.EncodeToString([]byte(room)) }

func streamName(room string) string { return ChatStreamPrefix + roomToken(room) }

func roomSubject(room string) string { return ChatSubjectPrefix + roomToken(room) }

// storedText is what a stream holds of a message: its seq is the
// stream's, its room the stream's.
type storedText struct {
	Username  string    `json:"username"`
	Content   string    `json:"content"`
	ID        string    `json:"id,omitempty"`
	Timestamp time.Time `json:"timestamp"`
}

// OpenRoom implements [chat.Store].
func (s *JetStreamChat) OpenRoom(ctx context.Context, room string, maxRooms int, inUse func(string) bool) (chat.RoomState, error) {
	st, err := s.js.Stream(ctx, streamName(room))
	if err == nil {
		return roomState(st.CachedInfo())
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return chat.RoomState{}, fmt.Errorf("store: open room: %w", err)
	}
	if err := s.evict(ctx, room, maxRooms-1, inUse); err != nil {
		return chat.RoomState{}, err
	}
	st, err = s.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:       streamName(room),
		Subjects:   []string{roomSubject(room)},
		Storage:    jetstream.FileStorage,
		Retention:  jetstream.LimitsPolicy,
		Discard:    jetstream.DiscardOld,
		Duplicates: DuplicateWindow,
		Metadata:   map[string]string{epochKey: newEpoch()},
	})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		st, err = s.js.Stream(ctx, streamName(room)) // another process made it first
	}
	if err != nil {
		return chat.RoomState{}, fmt.Errorf("store: open room: %w", err)
	}
	return roomState(st.CachedInfo())
}

func roomState(info *jetstream.StreamInfo) (chat.RoomState, error) {
	epoch := info.Config.Metadata[epochKey]
	if epoch == "" {
		return chat.RoomState{}, fmt.Errorf("store: stream %s has no epoch", info.Config.Name)
	}
	return chat.RoomState{Epoch: epoch, LastSeq: info.State.LastSeq}, nil
}

func newEpoch() string { return strings.ToLower(rand.Text()[:16]) }

// evict deletes the least recently active rooms not in use until at most
// keep rooms besides opening remain, or only rooms in use do. It lists
// every room's stream: it runs only when a room is made.
func (s *JetStreamChat) evict(ctx context.Context, opening string, keep int, inUse func(string) bool) error {
	type stored struct {
		name   string
		active time.Time
	}
	var candidates []stored // not in use
	others := 0
	list := s.js.ListStreams(ctx, jetstream.WithStreamListSubject(ChatSubjectPrefix+"*"))
	for info := range list.Info() {
		room, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(info.Config.Name, ChatStreamPrefix))
		if err != nil || string(room) == opening {
			continue
		}
		others++
		if inUse == nil || !inUse(string(room)) {
			candidates = append(candidates, stored{info.Config.Name, latest(info.Created, info.State.LastTime)})
		}
	}
	if err := list.Err(); err != nil {
		return fmt.Errorf("store: list rooms: %w", err)
	}
	slices.SortFunc(candidates, func(a, b stored) int { return a.active.Compare(b.active) })
	for ; others > max(keep, 0) && len(candidates) > 0; others-- {
		if err := s.js.DeleteStream(ctx, candidates[0].name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("store: evict a room: %w", err)
		}
		candidates = candidates[1:]
	}
	return nil
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// appendTimeout bounds one append: a room waits for its store, so an
// unreachable NATS must not hold it for long.
const appendTimeout = 3 * time.Second

// unreachable reports whether err comes from NATS being out of reach
// (down, restarting, or not answering in time), rather than from what
// was asked: the caller wraps chat.ErrUnavailable then, never
// chat.ErrRoomGone, which would start the room over.
func (s *JetStreamChat) unreachable(err error) bool {
	return s.js.Conn().Status() != nats.CONNECTED || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, nats.ErrNoServers) || errors.Is(err, nats.ErrDisconnected)
}

// AppendMessage implements [chat.Store]. When NATS is out of reach it
// fails within appendTimeout with an error that wraps
// chat.ErrUnavailable.
func (s *JetStreamChat) AppendMessage(ctx context.Context, m shared.Message, fromClient bool, keep int) (shared.Message, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, appendTimeout)
	defer cancel()
	st, err := s.js.Stream(ctx, streamName(m.Room))
	if err != nil && s.unreachable(err) {
		return shared.Message{}, false, fmt.Errorf("store: append: %w: %w", chat.ErrUnavailable, err)
	}
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return shared.Message{}, false, fmt.Errorf("store: room %q: %w", m.Room, chat.ErrRoomGone)
	}
	if err != nil {
		return shared.Message{}, false, fmt.Errorf("store: append: %w", err)
	}
	if cfg := st.CachedInfo().Config; keep > 0 && cfg.MaxMsgs != int64(keep) {
		cfg.MaxMsgs = int64(keep)
		if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
			return shared.Message{}, false, fmt.Errorf("store: retention: %w", err)
		}
	}
	data, err := json.Marshal(storedText{Username: m.Username, Content: m.Content, ID: m.ID, Timestamp: m.Timestamp})
	if err != nil {
		return shared.Message{}, false, err
	}
	var opts []jetstream.PublishOpt
	if fromClient && m.ID != "" {
		opts = append(opts, jetstream.WithMsgID(m.Username+"/"+m.ID))
	}
	ack, err := s.js.Publish(ctx, roomSubject(m.Room), data, append(opts, jetstream.WithExpectStream(streamName(m.Room)))...)
	if err != nil && s.unreachable(err) {
		return shared.Message{}, false, fmt.Errorf("store: append: %w: %w", chat.ErrUnavailable, err)
	}
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
		return shared.Message{}, false, fmt.Errorf("store: room %q: %w", m.Room, chat.ErrRoomGone)
	}
	if err != nil {
		return shared.Message{}, false, fmt.Errorf("store: append: %w", err)
	}
	if ack.Duplicate {
		raw, err := st.GetMsg(ctx, ack.Sequence)
		if err != nil {
			return shared.Message{}, false, fmt.Errorf("store: the message a resend repeats: %w", err)
		}
		earlier, err := decodeText(m.Room, raw.Sequence, raw.Data)
		return earlier, true, err
	}
	m.Seq = ack.Sequence
	return m, false, nil
}

func decodeText(room string, seq uint64, data []byte) (shared.Message, error) {
	var t storedText
	if err := json.Unmarshal(data, &t); err != nil {
		return shared.Message{}, fmt.Errorf("store: message %d of room %q: %w", seq, room, err)
	}
	return shared.Message{Type: shared.TypeText, Room: room, Username: t.Username, Content: t.Content,
		ID: t.ID, Timestamp: t.Timestamp, Seq: seq}, nil
}

// MessagesAfter implements [chat.Store].
func (s *JetStreamChat) MessagesAfter(ctx context.Context, room string, after uint64, limit int) ([]shared.Message, bool, error) {
	st, err := s.js.Stream(ctx, streamName(room))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: history: %w", err)
	}
	state := st.CachedInfo().State
	complete := state.Msgs == 0 && after >= state.LastSeq || after+1 >= state.FirstSeq
	first := max(after+1, state.FirstSeq)
	if limit <= 0 || state.Msgs == 0 || first > state.LastSeq {
		return nil, complete, nil
	}
	n := min(uint64(limit), state.LastSeq-first+1)
	msgs, err := s.read(ctx, room, first, int(n))
	return msgs, complete, err
}

// read returns up to n messages of room from seq first on, through an
// ordered consumer that lives for this read only.
func (s *JetStreamChat) read(ctx context.Context, room string, first uint64, n int) ([]shared.Message, error) {
	cons, err := s.js.OrderedConsumer(ctx, streamName(room), jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   first,
	})
	if err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	out := make([]shared.Message, 0, n)
	for len(out) < n {
		batch, err := cons.Fetch(n-len(out), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("store: history: %w", err)
		}
		got := 0
		for msg := range batch.Messages() {
			meta, err := msg.Metadata()
			if err != nil {
				return nil, fmt.Errorf("store: history: %w", err)
			}
			m, err := decodeText(room, meta.Sequence.Stream, msg.Data())
			if err != nil {
				return nil, err
			}
			out = append(out, m)
			got++
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("store: history: %w", err)
		}
		if got == 0 {
			break // trimmed or deleted meanwhile
		}
	}
	slices.SortFunc(out, func(a, b shared.Message) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// LastMessages implements [chat.Store].
func (s *JetStreamChat) LastMessages(ctx context.Context, room string, n int) ([]shared.Message, error) {
	st, err := s.js.Stream(ctx, streamName(room))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	state := st.CachedInfo().State
	if n <= 0 || state.Msgs == 0 {
		return nil, nil
	}
	first := max(state.FirstSeq, state.LastSeq-min(state.LastSeq, uint64(n))+1)
	return s.read(ctx, room, first, int(state.LastSeq-first+1))
}

// Follow implements [chat.SharedStore]: an ordered consumer of the
// room's stream from the seq after after, whose messages deliver gets in
// stream order (the ordered consumer makes itself anew, from where it
// was, after a gap or a lost connection). A message it cannot decode is
// logged by being skipped: it was not written by this store.
func (s *JetStreamChat) Follow(room string, after uint64, deliver func(shared.Message)) (func(), error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := s.js.OrderedConsumer(ctx, streamName(room), jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   after + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("store: follow room %q: %w", room, err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		meta, err := msg.Metadata()
		if err != nil {
			return
		}
		m, err := decodeText(room, meta.Sequence.Stream, msg.Data())
		if err != nil {
			return
		}
		deliver(m)
	})
	if err != nil {
		return nil, fmt.Errorf("store: follow room %q: %w", room, err)
	}
	return cc.Stop, nil
}

var _ chat.SharedStore = (*JetStreamChat)(nil)
