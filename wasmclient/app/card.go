package app

import (
	"errors"

	"wsplay/shared"
)

// Card is one virtual client of the page: a user's chat client in a room
// and the same user's notification centre, logged in together. Its
// methods must be called on the loop.
type Card struct {
	Chat  *Chat
	Notes *Notifications
}

// NewCard returns the clients of a card for user in room on the server
// that served pageURL, shown in chat and notes. Each card logs in as its
// user with post, and sends its token with every connection, as the
// server asks with -require-auth. Both keep the heartbeat pageURL asks
// for (HeartbeatOf). NewCard checks both names first, as the server
// would, and says what is wrong with each. Call Start to connect.
func NewCard(loop *Loop, pageURL, user, room string, post Poster, chat ChatView, notes NotifyView) (*Card, error) {
	if err := errors.Join(shared.ValidateName("username", user), shared.ValidateName("room name", room)); err != nil {
		return nil, err
	}
	urls, err := SocketsOf(pageURL)
	if err != nil {
		return nil, err
	}
	beat, err := HeartbeatOf(pageURL)
	if err != nil {
		return nil, err
	}
	tokens, err := NewTokens(pageURL, user, post)
	if err != nil {
		return nil, err
	}
	c, err := NewChat(loop, chat, urls.Chat, room, user)
	if err != nil {
		return nil, err
	}
	n, err := NewNotifications(loop, notes, urls.Notifications, user)
	if err != nil {
		return nil, err
	}
	c.Tokens, n.Tokens = tokens, tokens
	c.Heartbeat, n.Heartbeat = beat, beat
	return &Card{Chat: c, Notes: n}, nil
}

// Title names the card: user @ room.
func (c *Card) Title() string { return c.Chat.User + " @ " + c.Chat.Room }

// Prompt is the placeholder of the card's message input.
func (c *Card) Prompt() string { return "Message as " + c.Chat.User }

// Start connects both clients.
func (c *Card) Start() {
	c.Chat.Start()
	c.Notes.Start()
}

// Stop closes both connections for good.
func (c *Card) Stop() {
	c.Chat.Stop()
	c.Notes.Stop()
}

// Send sends text to the room, or shows why it cannot; it reports whether
// the text was taken (sent, or kept to send once connected), so that the
// page clears its field only then and nothing typed is lost.
func (c *Card) Send(text string) bool {
	err := c.Chat.Send(text)
	if err != nil {
		c.Chat.view.ChatError(err.Error())
	}
	return err == nil
}

// MarkRead asks the server to mark the notification with this id read.
func (c *Card) MarkRead(id string) { c.report(c.Notes.MarkRead(id)) }

// MarkAllRead asks the server to mark every notification read.
func (c *Card) MarkAllRead() { c.report(c.Notes.MarkAllRead()) }

// Poke sends user to a poke with message (optional) from the card's user.
func (c *Card) Poke(to, message string) { c.report(c.Notes.Poke(to, "poke", message)) }

// report shows err, if any, in the notification centre.
func (c *Card) report(err error) {
	if err != nil {
		c.Notes.view.NotifyError(err.Error())
	}
}
