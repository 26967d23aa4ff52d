// Package dom is the page side of the client: the views that implement
// package app's view interfaces, over the page's <template>s, and the
// wiring of the page's controls to app's clients. It decides nothing:
// what to show, in which order, and what a control does is app's
// business; a view only puts it into the page.
//
// # Templates and slots
//
// Each repeated piece of the page (a chat card, a log row, a toast) is
// declared once in index.html as a <template>. A view copies one with
// [Page.Clone] and puts text into the parts of the copy marked
// data-slot="name" ([Element.Slot]), always as text ([Element.SetText]
// sets textContent), never as markup, so untrusted text stays text.
//
// # The browser, and the tests
//
// The views see the page through two small interfaces, [Page] and
// [Element]. page_js.go implements them over the browser's DOM, and is,
// with fetch_js.go, the only code of the client that touches syscall/js.
// Natively, the tests implement them in memory, with the templates of
// index.html, so the views are tested with plain go test, as package app
// is.
//
// # Screen readers and the focus
//
// What a screen reader hears goes to the page's four live regions, one
// per purpose (#announce-echo, -chat, -status, -notes), as one line per
// piece of news ([announce]); no card is a live region of its own, so the
// cards share what they have told (chatPanel): a room's message, or a
// user's unread count, is read out once however many cards show it.
// Connection states are news only when connected and when that is lost
// (stateNews), not at each attempt to reconnect. A control that goes
// away with the focus on it hands the focus to one nearby: a card's × to
// the next card's, a Mark read button to the nearest unread one's.
//
// # Callbacks
//
// A listener is a js.Func, which stays alive, with everything it refers
// to, until Go releases it. [Element.On] returns the function that
// removes the listener and releases it; each chat card gathers its own and
// removes them when it is closed, and only the page's own controls keep
// theirs. In the browser, the body's data-live-funcs says at all times
// how many js.Funcs are made and not released, so that a test sees a
// leak. A listener runs inside a JavaScript callback and must not block:
// it reads what it needs from the page and posts the rest to app's loop.
package dom
