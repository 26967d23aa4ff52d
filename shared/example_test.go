package shared_test

import (
	"errors"
	"fmt"

	"wsplay/shared"
)

func ExampleDecode() {
	m, err := shared.Decode([]byte(`{"type":"text","room":"general","content":"hello"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Type, m.Room, m.Content)
	// Output: text general hello
}

func ExampleDecode_error() {
	_, err := shared.Decode([]byte(`{"type":"shout","content":"HELLO"}`))
	var perr *shared.Error
	if errors.As(err, &perr) {
		reply := perr.Message() // what the server sends back
		fmt.Println(reply.Type, reply.Code, reply.Content)
	}
	// Output: error unknown_type unknown message type "shout"
}

func ExampleDescribeClose() {
	advice := shared.DescribeClose(shared.CloseGoingAway)
	fmt.Println(advice.Meaning)
	fmt.Println("reconnect:", advice.Reconnect)
	// Output:
	// going away: the server is shutting down or restarting
	// reconnect: true
}

func ExampleDecodeNotify() {
	// What a tab sends when the user clears the badge: everything up to
	// the newest notification it has shown.
	m, err := shared.DecodeNotify([]byte(`{"type":"mark_read","all":true,"seq":42}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Type, m.All, m.Seq, m.Type.FromClient())
	// Output: mark_read true 42 true
}

func ExampleEncodeNotify() {
	// What every tab of the user receives when one of them marks a
	// notification read.
	b, err := shared.EncodeNotify(shared.NotifyMessage{Type: shared.NotifyRead, IDs: []string{"N1"}, Unread: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b))
	// Output: {"type":"read","unread":2,"ids":["N1"]}
}

func ExampleError_NotifyMessage() {
	err := shared.Errorf(shared.CodeForbidden, "not one of your notifications")
	b, _ := shared.EncodeNotify(err.NotifyMessage())
	fmt.Println(string(b))
	// Output: {"type":"error","code":"forbidden","message":"not one of your notifications"}
}
