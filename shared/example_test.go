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
