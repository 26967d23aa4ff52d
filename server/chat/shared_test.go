package chat

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wsplay/server/broker"
	"wsplay/server/wsconn/wsconntest"
	"wsplay/shared"
)

// followedStore is a SharedStore in memory whose follow the test drives:
// it delivers what the test hands it, as a stream shared with other
// processes would, whenever it gets to it.
type followedStore struct {
	*MemoryStore
	mu      sync.Mutex
	deliver func(shared.Message)
	after   uint64
}

func (s *followedStore) Follow(room string, after uint64, deliver func(shared.Message)) (func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliver, s.after = deliver, after
	return func() {}, nil
}

// catchUp delivers every stored message after the last one delivered.
func (s *followedStore) catchUp(t *testing.T) {
	t.Helper()
	msgs, _, err := s.MessagesAfter(context.Background(), "general", s.after, 1000)
	require.NoError(t, err)
	for _, m := range msgs {
		s.deliver(m)
		s.after = m.Seq
	}
}

// texts decodes the text messages queued for c, and the history ones.
func texts(t *testing.T, c *wsconntest.Conn) (text []string, history []shared.Message) {
	t.Helper()
	for {
		select {
		case f := <-c.Queue:
			m, err := shared.Decode(f.Payload())
			require.NoError(t, err)
			switch m.Type {
			case shared.TypeText:
				text = append(text, m.Content)
			case shared.TypeHistory:
				history = append(history, m)
			}
		default:
			return text, history
		}
	}
}

// With a shared store, the hub sends its members what the follow
// delivers, its own messages included, in the stream's order, and not
// what it appended itself; a member resuming from further than the
// follow has come waits for it, or for ResumeWait.
func TestHubWithASharedStoreSendsWhatItFollows(t *testing.T) {
	cfg := Config{}.withDefaults()
	synctest.Test(t, func(t *testing.T) {
		st := &followedStore{MemoryStore: NewMemoryStore()}
		h := newHub("general", &cfg, discardLogger(), st, broker.NewMemory(), nil, nil)
		go h.run()
		defer h.shutdown()

		adaConn := fakeClient(64)
		ada := &member{c: adaConn, user: "ada"}
		require.True(t, h.add(joinRequest{m: ada}))
		synctest.Wait()
		_, hist := texts(t, adaConn)
		require.Len(t, hist, 1)
		epoch := hist[0].Epoch

		h.send(inbound{m: ada, msg: shared.Message{Type: shared.TypeText, Content: "mine", ID: "a-1"}})
		synctest.Wait()
		got, _ := texts(t, adaConn)
		assert.Empty(t, got, "what the hub appends waits for the follow")
		// Another process appends the next one.
		_, _, err := st.AppendMessage(context.Background(), shared.Message{Type: shared.TypeText, Room: "general", Username: "bob", Content: "theirs", ID: "b-1", Timestamp: time.Now()}, true, 100)
		require.NoError(t, err)
		st.catchUp(t)
		synctest.Wait()
		got, _ = texts(t, adaConn)
		assert.Equal(t, []string{"mine", "theirs"}, got, "in the stream's order")

		// Carol saw seq 3 elsewhere; this follow is at 2: she waits.
		_, _, err = st.AppendMessage(context.Background(), shared.Message{Type: shared.TypeText, Room: "general", Username: "bob", Content: "third", ID: "b-2", Timestamp: time.Now()}, true, 100)
		require.NoError(t, err)
		carolConn := fakeClient(64)
		require.True(t, h.add(joinRequest{m: &member{c: carolConn, user: "carol"}, resume: true, since: 3, epoch: epoch}))
		synctest.Wait()
		_, hist = texts(t, carolConn)
		assert.Empty(t, hist, "no history before the follow reaches her seq")
		st.catchUp(t)
		synctest.Wait()
		_, hist = texts(t, carolConn)
		require.Len(t, hist, 1)
		require.NotNil(t, hist[0].Recovered)
		assert.True(t, *hist[0].Recovered, "nothing missed: the follow reached seq 3")
		assert.Empty(t, hist[0].Messages)

		// Dan claims a seq nobody has: after ResumeWait he is told.
		danConn := fakeClient(64)
		require.True(t, h.add(joinRequest{m: &member{c: danConn, user: "dan"}, resume: true, since: 99, epoch: epoch}))
		synctest.Wait()
		_, hist = texts(t, danConn)
		assert.Empty(t, hist)
		time.Sleep(ResumeWait)
		synctest.Wait()
		_, hist = texts(t, danConn)
		require.Len(t, hist, 1)
		require.NotNil(t, hist[0].Recovered)
		assert.False(t, *hist[0].Recovered)
	})
}
