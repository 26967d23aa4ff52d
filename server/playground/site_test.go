package playground

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// siteFS is a site with precompressed variants of x.wasm. The variants'
// contents are stand-ins: the handler serves bytes, it never compresses.
var siteFS = fstest.MapFS{
	"index.html":  {Data: []byte("<!doctype html><title>wsplay</title>")},
	"style.css":   {Data: []byte("body { margin: 0 }")},
	"x.wasm":      {Data: []byte("\x00asm raw")},
	"x.wasm.gz":   {Data: []byte("gzipped")},
	"x.wasm.br":   {Data: []byte("brotli")},
	"dir/app.js":  {Data: []byte("console.log(1)")},
	"dir/app.js~": {Data: []byte("backup")},
}

// get serves one request with h and returns the recorded response.
func get(t *testing.T, h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func newTestSite(t *testing.T) *siteHandler {
	t.Helper()
	h, err := newSiteHandler(siteFS)
	require.NoError(t, err)
	return h
}

func TestSiteServesTheBestAcceptedEncoding(t *testing.T) {
	t.Parallel()
	h := newTestSite(t)
	tests := []struct {
		acceptEncoding string
		wantEncoding   string // "" means the file itself
		wantBody       string
	}{
		{"br, gzip", "br", "brotli"},
		{"gzip, br", "br", "brotli"}, // the server's preference, among those accepted
		{"gzip", "gzip", "gzipped"},
		{"gzip, deflate", "gzip", "gzipped"},
		{"br;q=0, gzip", "gzip", "gzipped"},
		{"br;q=0.0, gzip;q=0.5", "gzip", "gzipped"},
		{"BR", "br", "brotli"},
		{"*", "br", "brotli"},
		{"*, br;q=0", "gzip", "gzipped"},
		{"*;q=0", "", "\x00asm raw"},
		{"", "", "\x00asm raw"},
		{"identity", "", "\x00asm raw"},
		{"deflate", "", "\x00asm raw"},
		{"br;q=0, gzip;q=0", "", "\x00asm raw"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.acceptEncoding), func(t *testing.T) {
			t.Parallel()
			w := get(t, h, http.MethodGet, "/x.wasm", http.Header{"Accept-Encoding": {tt.acceptEncoding}})
			require.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, tt.wantEncoding, w.Header().Get("Content-Encoding"))
			assert.Equal(t, "application/wasm", w.Header().Get("Content-Type"))
			assert.Equal(t, "Accept-Encoding", w.Header().Get("Vary"), "caches must key on Accept-Encoding")
			assert.Equal(t, "no-cache", w.Header().Get("Cache-Control"))
			assert.NotEmpty(t, w.Header().Get("ETag"))
			assert.Equal(t, fmt.Sprint(len(tt.wantBody)), w.Header().Get("Content-Length"))
			assert.Equal(t, tt.wantBody, w.Body.String())
		})
	}
}

func TestSiteETags(t *testing.T) {
	t.Parallel()
	h := newTestSite(t)
	etags := map[string]string{} // by encoding
	for _, enc := range []string{"br", "gzip", "identity"} {
		w := get(t, h, http.MethodGet, "/x.wasm", http.Header{"Accept-Encoding": {enc}})
		require.Equal(t, http.StatusOK, w.Code)
		etag := w.Header().Get("ETag")
		assert.Regexp(t, `^"[A-Za-z0-9_-]+"$`, etag, "a strong ETag")
		for other, e := range etags {
			assert.NotEqual(t, e, etag, "%s and %s variants share an ETag", enc, other)
		}
		etags[enc] = etag

		// Revalidating with the ETag of what was served costs no body.
		w = get(t, h, http.MethodGet, "/x.wasm", http.Header{"Accept-Encoding": {enc}, "If-None-Match": {etag}})
		assert.Equal(t, http.StatusNotModified, w.Code, enc)
		assert.Empty(t, w.Body.String(), enc)
		assert.Equal(t, etag, w.Header().Get("ETag"), enc)
	}

	// The ETag of another variant does not match: a client that cached the
	// gzip body and now accepts br gets the br body, in full.
	w := get(t, h, http.MethodGet, "/x.wasm", http.Header{"Accept-Encoding": {"br"}, "If-None-Match": {etags["gzip"]}})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "brotli", w.Body.String())

	// The same content has the same ETag after a restart.
	h2 := newTestSite(t)
	w = get(t, h2, http.MethodGet, "/x.wasm", http.Header{"Accept-Encoding": {"br"}})
	assert.Equal(t, etags["br"], w.Header().Get("ETag"))
}

func TestSiteRoutes(t *testing.T) {
	t.Parallel()
	h := newTestSite(t)
	tests := []struct {
		name, method, target string
		status               int
		contentType, body    string
	}{
		{"root serves index.html", http.MethodGet, "/", http.StatusOK, "text/html; charset=utf-8", "<!doctype html><title>wsplay</title>"},
		{"index.html by name", http.MethodGet, "/index.html", http.StatusOK, "text/html; charset=utf-8", "<!doctype html><title>wsplay</title>"},
		{"css", http.MethodGet, "/style.css", http.StatusOK, "text/css; charset=utf-8", "body { margin: 0 }"},
		{"javascript in a directory", http.MethodGet, "/dir/app.js", http.StatusOK, "text/javascript; charset=utf-8", "console.log(1)"},
		{"unknown type", http.MethodGet, "/dir/app.js~", http.StatusOK, "application/octet-stream", "backup"},
		{"unknown path", http.MethodGet, "/nope.js", http.StatusNotFound, "", ""},
		{"a directory", http.MethodGet, "/dir", http.StatusNotFound, "", ""},
		{"a directory with a slash", http.MethodGet, "/dir/", http.StatusNotFound, "", ""},
		{"a variant by name", http.MethodGet, "/x.wasm.br", http.StatusNotFound, "", ""},
		{"HEAD", http.MethodHead, "/style.css", http.StatusOK, "text/css; charset=utf-8", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := get(t, h, tt.method, tt.target, nil)
			assert.Equal(t, tt.status, w.Code)
			if tt.status != http.StatusOK {
				return
			}
			assert.Equal(t, tt.contentType, w.Header().Get("Content-Type"))
			assert.Equal(t, tt.body, w.Body.String())
			assert.Equal(t, "no-cache", w.Header().Get("Cache-Control"))
			assert.Empty(t, w.Header().Get("Vary"), "no variants, nothing to vary on")
		})
	}
}

func TestSiteHEADMatchesGET(t *testing.T) {
	t.Parallel()
	h := newTestSite(t)
	hdr := http.Header{"Accept-Encoding": {"gzip"}}
	g := get(t, h, http.MethodGet, "/x.wasm", hdr)
	hd := get(t, h, http.MethodHead, "/x.wasm", hdr)
	assert.Equal(t, http.StatusOK, hd.Code)
	assert.Empty(t, hd.Body.String())
	for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "ETag", "Vary"} {
		assert.Equal(t, g.Header().Get(k), hd.Header().Get(k), k)
	}
}

func TestSiteRefusesOtherMethods(t *testing.T) {
	t.Parallel()
	h := newTestSite(t)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions, "PATCH"} {
		w := get(t, h, m, "/x.wasm", nil)
		assert.Equal(t, http.StatusMethodNotAllowed, w.Code, m)
		assert.Equal(t, "GET, HEAD", w.Header().Get("Allow"), m)
	}
}

func TestParseAcceptEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		want   []string // which of *, br, gzip and identity are allowed
	}{
		{"", nil},
		{"gzip", []string{"gzip"}},
		{"br, gzip", []string{"br", "gzip"}},
		{" gzip , br ", []string{"br", "gzip"}},
		{"GZip", []string{"gzip"}},
		{"gzip;q=0.5, br;q=1.0", []string{"br", "gzip"}},
		{"gzip; q=0.001", []string{"gzip"}},
		{"br;q=0", nil},
		{"br;q=0.0, gzip", []string{"gzip"}},
		{"br;Q=0, gzip", []string{"gzip"}},
		{"br ; q=0 , gzip", []string{"gzip"}},
		{"*", []string{"*", "br", "gzip"}},
		{"*, gzip;q=0", []string{"*", "br"}},
		{"*;q=0", nil},
		{"*;q=0, gzip", []string{"gzip"}},
		{"gzip, gzip;q=0", nil}, // a refusal wins over a listing
		{"identity", []string{"identity"}},
		{"gzip;q=nonsense", []string{"gzip"}}, // an unreadable weight counts as 1
		{"gzip;level=9", []string{"gzip"}},
		{",,,", nil},
	}
	for _, tt := range tests {
		got := parseAcceptEncoding(tt.header)
		var allowed []string
		for _, c := range []string{"*", "br", "gzip", "identity"} {
			if got[c] {
				allowed = append(allowed, c)
			}
		}
		assert.ElementsMatch(t, tt.want, allowed, "%q", tt.header)
	}
}

// The handler serves only the files it indexed, so no path reaches outside
// the site's directory, whatever the request says.
func TestSitePathsCannotEscape(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	siteDir := filepath.Join(root, "site")
	require.NoError(t, os.Mkdir(siteDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(siteDir, "index.html"), []byte("page"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(siteDir, "x.wasm"), []byte("wasm"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "secret.txt"), []byte("SECRET"), 0o644))
	h, err := newSiteHandler(os.DirFS(siteDir))
	require.NoError(t, err)

	// Straight to the handler, with paths no mux has cleaned.
	for _, target := range []string{
		"/../secret.txt", "/../../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt",
		"/x.wasm/../../secret.txt", `/..\secret.txt`, "/./../secret.txt",
	} {
		w := get(t, h, http.MethodGet, target, nil)
		assert.Equal(t, http.StatusNotFound, w.Code, target)
		assert.NotContains(t, w.Body.String(), "SECRET", target)
	}
	// A path with dot segments that stays inside the site is the file.
	w := get(t, h, http.MethodGet, "/../x.wasm", nil)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "wasm", w.Body.String())

	// Through the real server, with the request line sent as is.
	ts := serveSite(t, os.DirFS(siteDir))
	for _, target := range []string{"/../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt", "/static/../../secret.txt"} {
		status, body := rawGET(t, strings.TrimPrefix(ts.URL, "http://"), target)
		assert.NotEqual(t, http.StatusOK, status, target)
		assert.NotContains(t, body, "SECRET", target)
	}
}

// rawETag returns the ETag the site handler gives a file of fsys.
func rawETag(t *testing.T, fsys fstest.MapFS, name string) string {
	t.Helper()
	etag, err := hashFile(fsys, name)
	require.NoError(t, err)
	return etag
}

// rawGET sends a GET with target written into the request line unchanged,
// as net/http's client would not, and returns the status and body.
func rawGET(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// serveSite serves a playground with the page fsys until the test ends.
func serveSite(t *testing.T, fsys fs.FS) *httptest.Server {
	t.Helper()
	p, err := New(Config{DataDir: t.TempDir()}, Deps{Site: fsys})
	require.NoError(t, err)
	ts := httptest.NewServer(p.Handler())
	t.Cleanup(func() {
		ts.Close()
		require.NoError(t, p.Shutdown(context.Background()))
	})
	return ts
}

// A precompressed variant is sent with its length, as an uncompressed file
// is, and conditional and range requests still get correct answers.
func TestSiteVariantsOverTheWire(t *testing.T) {
	t.Parallel()
	// Large enough that net/http would send it chunked without a length.
	big := strings.Repeat("b", 64<<10)
	site := fstest.MapFS{
		"index.html": siteFS["index.html"],
		"x.wasm":     {Data: []byte(strings.Repeat("w", 256<<10))},
		"x.wasm.br":  {Data: []byte(big)},
	}
	ts := serveSite(t, site)
	etag := rawETag(t, site, "x.wasm.br")
	tests := []struct {
		name, method string
		header       http.Header
		status       int
		encoding     string
		length       int64
		body         string
	}{
		{"GET", http.MethodGet, nil, http.StatusOK, "br", int64(len(big)), big},
		{"HEAD", http.MethodHead, nil, http.StatusOK, "br", int64(len(big)), ""},
		{"range", http.MethodGet, http.Header{"Range": {"bytes=0-2"}}, http.StatusPartialContent, "br", 3, "bbb"},
		{"unsatisfiable range", http.MethodGet, http.Header{"Range": {"bytes=100000-200000"}}, http.StatusRequestedRangeNotSatisfiable, "", -1, ""},
		{"If-None-Match", http.MethodGet, http.Header{"If-None-Match": {etag}}, http.StatusNotModified, "", -1, ""},
		{"If-Match fails", http.MethodGet, http.Header{"If-Match": {`"other"`}}, http.StatusPreconditionFailed, "", -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, ts.URL+"/x.wasm", nil)
			require.NoError(t, err)
			req.Header = tt.header.Clone()
			if req.Header == nil {
				req.Header = http.Header{}
			}
			// Set by hand, so the client passes the body through as is.
			req.Header.Set("Accept-Encoding", "br")
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err, "the body matches its Content-Length")
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.encoding, resp.Header.Get("Content-Encoding"))
			if tt.length >= 0 {
				assert.Equal(t, tt.length, resp.ContentLength)
				assert.Empty(t, resp.TransferEncoding, "not chunked")
			}
			if tt.body != "" {
				assert.Equal(t, tt.body, string(body))
			}
		})
	}
}

// Every page response goes through pageHeaders; WebSocket and health
// routes do not need them.
func TestPageHeaders(t *testing.T) {
	t.Parallel()
	ts := serveSite(t, siteFS)
	for _, path := range []string{"/", "/x.wasm", "/style.css", "/nope"} {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		assert.Contains(t, csp, "'wasm-unsafe-eval'", path)
		assert.Contains(t, csp, "default-src 'self'", path)
		assert.Contains(t, csp, "connect-src 'self'", path)
		assert.Contains(t, csp, "frame-ancestors 'self'", path) // framed by the workshop's lessons only
		assert.NotContains(t, csp, "'unsafe-eval'", path, "wasm-unsafe-eval allows WebAssembly, not JavaScript eval")
		assert.NotContains(t, csp, "'unsafe-inline'", path)
		assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
		assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"), path)
	}
}

// Hidden files are not served: a -site-dir may hold a .env or a .git.
func TestSiteServesNoHiddenFiles(t *testing.T) {
	t.Parallel()
	h, err := newSiteHandler(fstest.MapFS{
		"index.html":      {Data: []byte("page")},
		".env":            {Data: []byte("SECRET=1")},
		".git/config":     {Data: []byte("[core]")},
		"dir/.hidden.css": {Data: []byte("x")},
	})
	require.NoError(t, err)
	for _, target := range []string{"/.env", "/.git/config", "/dir/.hidden.css"} {
		w := get(t, h, http.MethodGet, target, nil)
		assert.Equal(t, http.StatusNotFound, w.Code, target)
		assert.NotContains(t, w.Body.String(), "SECRET", target)
	}
	assert.Equal(t, http.StatusOK, get(t, h, http.MethodGet, "/", nil).Code)
}

// A folder with an index.html is served at its path with a slash (the
// workshop's lessons), and its path without one is redirected there.
func TestSiteServesFolderIndexes(t *testing.T) {
	t.Parallel()
	site := fstest.MapFS{
		"index.html":                  siteFS["index.html"],
		"workshop/index.html":         {Data: []byte("<title>lessons</title>")},
		"workshop/01-echo/index.html": {Data: []byte("<title>echo</title>")},
	}
	ts := serveSite(t, site)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(ts.URL + "/workshop")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	assert.Equal(t, "/workshop/", resp.Header.Get("Location"))
	for path, want := range map[string]string{"/workshop/": "lessons", "/workshop/01-echo/": "echo"} {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, string(body), want, path)
		assert.Contains(t, resp.Header.Get("Content-Type"), "text/html", path)
	}
	resp, err = http.Get(ts.URL + "/workshop/99-none/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// A -site-dir is read as it is now: a client rebuilt while the server runs
// is served with its new ETag (a browser holding the old one gets the new
// bytes, not a 304), a file added later is served, and a compressed
// variant older than its file is stale and skipped until it is rebuilt.
func TestSiteDirFollowsRebuilds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string, mod time.Time) {
		t.Helper()
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
		require.NoError(t, os.Chtimes(p, mod, mod))
	}
	t0 := time.Now().Add(-time.Hour)
	write("index.html", "page", t0)
	write("main.wasm", "old client", t0)
	write("main.wasm.br", "old brotli", t0)
	h, err := newSiteHandler(os.DirFS(dir))
	require.NoError(t, err)
	br := http.Header{"Accept-Encoding": {"br"}}

	w := get(t, h, http.MethodGet, "/main.wasm", br)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "old brotli", w.Body.String())
	oldTag := w.Header().Get("ETag")

	// Rebuilt: the file is newer than its variant, which is not served.
	write("main.wasm", "new client", t0.Add(time.Minute))
	w = get(t, h, http.MethodGet, "/main.wasm", http.Header{"Accept-Encoding": {"br"}, "If-None-Match": {oldTag}})
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "new client", w.Body.String())
	assert.Empty(t, w.Header().Get("Content-Encoding"))
	newTag := w.Header().Get("ETag")
	assert.NotEqual(t, oldTag, newTag)
	assert.Equal(t, http.StatusNotModified, get(t, h, http.MethodGet, "/main.wasm", http.Header{"If-None-Match": {newTag}}).Code)

	// Its variant rebuilt after it: served again.
	write("main.wasm.br", "new brotli", t0.Add(2*time.Minute))
	w = get(t, h, http.MethodGet, "/main.wasm", br)
	assert.Equal(t, "new brotli", w.Body.String())
	assert.Equal(t, "br", w.Header().Get("Content-Encoding"))

	// Added after the handler was made.
	assert.Equal(t, http.StatusNotFound, get(t, h, http.MethodGet, "/loader.js", nil).Code)
	write("loader.js", "go.run()", t0)
	w = get(t, h, http.MethodGet, "/loader.js", nil)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "go.run()", w.Body.String())
}

// A site without an index.html is refused when the server starts, rather
// than serving 404 for its page: a -site-dir naming the wrong folder.
func TestSiteNeedsAnIndex(t *testing.T) {
	t.Parallel()
	_, err := newSiteHandler(os.DirFS(t.TempDir()))
	assert.ErrorContains(t, err, "index.html")
}
