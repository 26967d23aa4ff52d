package playground

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// siteHandler serves the files of a site. For a file such as main.wasm it
// also looks for precompressed variants, main.wasm.br and main.wasm.gz, and
// serves the best one the client accepts, with Content-Encoding set. Every
// response carries a strong ETag (a hash of the content), so browsers
// revalidate with If-None-Match and get 304 Not Modified for unchanged
// files.
//
// Files are looked up on each request and their hashes kept while their
// size and modification time stay the same, so a -site-dir picks up a
// rebuilt client or a new file without a restart, and never serves an old
// file under its new ETag. A variant older than its file is stale (the
// file was rebuilt, the variant not yet) and is not served.
type siteHandler struct {
	fsys fs.FS

	mu     sync.Mutex
	hashes map[string]siteHash // by name in fsys
}

// siteHash is a file's ETag and the size and time it was computed for.
type siteHash struct {
	size int64
	mod  time.Time
	etag string
}

// siteFile is one file and its precompressed variants.
type siteFile struct {
	contentType string
	variants    []siteVariant // best first: br, gzip, then identity
}

type siteVariant struct {
	name     string // in fsys
	encoding string // "br", "gzip", or "" for the file itself
	etag     string
}

// encodings are the precompressed variants looked for, best first.
var encodings = []struct{ ext, name string }{{".br", "br"}, {".gz", "gzip"}}

// newSiteHandler serves fsys, which must hold an index.html.
func newSiteHandler(fsys fs.FS) (*siteHandler, error) {
	if fi, err := fs.Stat(fsys, "index.html"); err != nil || fi.IsDir() {
		return nil, fmt.Errorf("site: no index.html: %v", err)
	}
	return &siteHandler{fsys: fsys, hashes: map[string]siteHash{}}, nil
}

// lookup returns the file a URL path names (without its leading slash), or
// false when there is none to serve: nothing hidden (a -site-dir may hold
// a .env or .git), no folder, no variant asked for by its own name.
func (h *siteHandler) lookup(name string) (*siteFile, bool) {
	if !fs.ValidPath(name) || strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz") {
		return nil, false
	}
	for part := range strings.SplitSeq(name, "/") {
		if strings.HasPrefix(part, ".") {
			return nil, false
		}
	}
	fi, err := fs.Stat(h.fsys, name)
	if err != nil || !fi.Mode().IsRegular() {
		return nil, false
	}
	f := &siteFile{contentType: contentType(name)}
	for _, enc := range encodings {
		vi, err := fs.Stat(h.fsys, name+enc.ext)
		if err != nil || !vi.Mode().IsRegular() || vi.ModTime().Before(fi.ModTime()) {
			continue
		}
		if etag, err := h.etag(name+enc.ext, vi); err == nil {
			f.variants = append(f.variants, siteVariant{name + enc.ext, enc.name, etag})
		}
	}
	etag, err := h.etag(name, fi)
	if err != nil {
		return nil, false
	}
	f.variants = append(f.variants, siteVariant{name, "", etag})
	return f, true
}

// etag returns the ETag of a file, hashing it only when its size or
// modification time changed since the last time.
func (h *siteHandler) etag(name string, fi fs.FileInfo) (string, error) {
	h.mu.Lock()
	known, ok := h.hashes[name]
	h.mu.Unlock()
	if ok && known.size == fi.Size() && known.mod.Equal(fi.ModTime()) {
		return known.etag, nil
	}
	etag, err := hashFile(h.fsys, name)
	if err != nil {
		return "", err
	}
	h.mu.Lock()
	h.hashes[name] = siteHash{fi.Size(), fi.ModTime(), etag}
	h.mu.Unlock()
	return etag, nil
}

func (h *siteHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	f, ok := h.lookup(name)
	if !ok {
		// A folder with an index.html (the workshop's pages): served at
		// its path with a slash, so that its relative links work.
		if index, dir := h.lookup(path.Join(name, "index.html")); dir && name != "" {
			if !strings.HasSuffix(r.URL.Path, "/") {
				http.Redirect(w, r, "/"+name+"/", http.StatusMovedPermanently)
				return
			}
			f, ok = index, true
		}
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	v := f.pick(r.Header.Get("Accept-Encoding"))
	file, err := h.fsys.Open(v.name)
	if err != nil {
		http.Error(w, "cannot open file", http.StatusInternalServerError)
		return
	}
	defer file.Close()
	content, ok := file.(io.ReadSeeker)
	if !ok {
		http.Error(w, "file cannot seek", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("ETag", v.etag)
	// The names carry no version, so browsers must revalidate; an
	// unchanged file then costs a 304 and no body.
	hdr.Set("Cache-Control", "no-cache")
	if len(f.variants) > 1 {
		hdr.Set("Vary", "Accept-Encoding")
	}
	if v.encoding != "" {
		w = &encodingWriter{ResponseWriter: w, encoding: v.encoding}
	}
	http.ServeContent(w, r, name, time.Time{}, content)
}

// encodingWriter adds Content-Encoding to a successful response as its
// status is written. http.ServeContent sends no Content-Length when
// Content-Encoding is set before it runs (it guards against handlers that
// compress on the fly); the variants here are compressed ahead of time, so
// their length is known and sent. Error answers get no Content-Encoding.
type encodingWriter struct {
	http.ResponseWriter
	encoding    string
	wroteHeader bool
}

func (w *encodingWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 && code < 300 {
		w.Header().Set("Content-Encoding", w.encoding)
	}
	w.wroteHeader = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *encodingWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// pick returns the best variant that acceptEncoding allows.
func (f *siteFile) pick(acceptEncoding string) siteVariant {
	accepted := parseAcceptEncoding(acceptEncoding)
	for _, v := range f.variants {
		if v.encoding == "" || accepted[v.encoding] {
			return v
		}
	}
	return f.variants[len(f.variants)-1]
}

// parseAcceptEncoding returns the codings an Accept-Encoding header allows:
// those listed, or covered by "*", without q=0.
func parseAcceptEncoding(header string) map[string]bool {
	allowed := map[string]bool{}
	refused := map[string]bool{}
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		if q <= 0 {
			refused[coding] = true
		} else {
			allowed[coding] = true
		}
	}
	if allowed["*"] {
		for _, enc := range encodings {
			allowed[enc.name] = true
		}
	}
	for coding := range refused {
		delete(allowed, coding)
	}
	return allowed
}

// contentType returns the media type for a file name. WebAssembly must be
// served as application/wasm for WebAssembly.instantiateStreaming.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".wasm":
		return "application/wasm"
	case ".js":
		return "text/javascript; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// hashFile returns a strong ETag for a file's content.
func hashFile(fsys fs.FS, name string) (string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return `"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18]) + `"`, nil
}
