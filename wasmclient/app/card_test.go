package app

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCardSaysWhatIsWrongWithEachName(t *testing.T) {
	t.Parallel()
	_, err := NewCard(NewLoop(), "http://127.0.0.1:1/", "<b>", "../x", nil, &chatRecorder{}, &notifyRecorder{})
	assert.ErrorContains(t, err, "username")
	assert.ErrorContains(t, err, "room name")
	_, err = NewCard(NewLoop(), "file:///index.html", "ada", "general", nil, &chatRecorder{}, &notifyRecorder{})
	assert.ErrorContains(t, err, "want http or https")
}

// A card's actions show why they fail in the card: a chat problem under
// the chat, a notification problem in the notification centre.
func TestCardShowsWhyAnActionFails(t *testing.T) {
	t.Parallel()
	failing := func(context.Context, string, []byte) (int, []byte, error) { return 0, nil, errors.New("no server") }
	chat, notes := &chatRecorder{}, &notifyRecorder{}
	c, err := NewCard(NewLoop(), "http://127.0.0.1:1/", "ada", "general", failing, chat, notes)
	require.NoError(t, err)
	assert.Equal(t, "ada @ general", c.Title())
	assert.Equal(t, "Message as ada", c.Prompt())
	assert.Same(t, c.Chat.Tokens, c.Notes.Tokens, "one login for both")

	c.Send("   ")
	assert.Equal(t, []string{"type a message first"}, chat.errs)
	c.Poke("<b>", "hi")
	assert.Contains(t, notes.lastError(), "user id")
	c.MarkRead("n1")
	assert.Equal(t, errNotConnected.Error(), notes.lastError())
	c.Stop()
	c.Send("after")
	assert.Equal(t, "this client was removed", chat.errs[len(chat.errs)-1])
}
