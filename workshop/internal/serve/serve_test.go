package serve

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"wsplay/server/playground"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The playground runs with the piece given, on a free loopback port, and
// stops without leaving anything behind.
func TestStartServesThePiece(t *testing.T) {
	s, err := Start("127.0.0.1:0", playground.Deps{
		Echo: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }),
	})
	require.NoError(t, err)
	resp, err := http.Get(s.URL + "ws/echo")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTeapot, resp.StatusCode, "the echo given")
	resp, err = http.Get(s.URL + "healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the playground's own")
	http.DefaultClient.CloseIdleConnections()
	require.NoError(t, s.Stop())
}
