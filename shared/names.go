package shared

import (
	"fmt"
	"time"
)

// Limits on names and ids, checked by the server and, to answer early, by
// clients.
const (
	MaxNameLen     = 32 // usernames and room names, in bytes
	MaxClientIDLen = 64 // ids that clients put on their messages
	DefaultRoom    = "general"
)

// DefaultMaxContent is the longest chat message a server takes unless its
// -max-content says otherwise, in bytes as the message's JSON string
// (escapes count in full). A client checks it before sending, so that an
// overlong message stays with the user instead of being refused with
// CodeTooLarge.
const DefaultMaxContent = 4 << 10

// TypingExpiry is how long a client shows "is typing" after the last
// TypeTyping message for that user. The server forwards a user's typing at
// most once per TypingExpiry/3, so an active typist stays shown.
const TypingExpiry = 3 * time.Second

// ValidateName checks a username or room name: 1 to MaxNameLen ASCII
// letters, digits, '_', '-' and '.', starting with a letter or digit. The
// rule keeps names safe in URLs, logs and the page without escaping tricks.
func ValidateName(kind, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%s is empty", kind)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%s is longer than %d characters", kind, MaxNameLen)
	case !isAlnum(name[0]):
		return fmt.Errorf("%s must start with a letter or digit", kind)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '_' && c != '-' && c != '.' {
			return fmt.Errorf("%s may contain only letters, digits, '_', '-' and '.'", kind)
		}
	}
	return nil
}

// ValidateClientID checks an id a client put on a message: 1 to
// MaxClientIDLen letters, digits, '_' and '-'.
func ValidateClientID(id string) error {
	if id == "" || len(id) > MaxClientIDLen {
		return fmt.Errorf("id must be 1 to %d characters", MaxClientIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '_' && c != '-' {
			return fmt.Errorf("id may contain only letters, digits, '_' and '-'")
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
