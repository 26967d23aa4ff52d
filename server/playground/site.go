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
	"time"
)

// siteHandler serves the files of a site. For a file such as main.wasm it
// also looks for precompressed variants, main.wasm.br and main.wasm.gz, and
// serves the best one the client accepts, with Content-Encoding set. Every
// response carries an ETag, so browsers revalidate with If-None-Match and
// get 304 Not Modified for unchanged files.
//
// The files are indexed once, when the handler is made: restart the server
// after rebuilding the site.
type siteHandler struct {
	fsys  fs.FS
	files map[string]*siteFile // by URL path without the leading slash
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

func newSiteHandler(fsys fs.FS) (*siteHandler, error) {
	h := &siteHandler{fsys: fsys, files: map[string]*siteFile{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Nothing hidden is served: a -site-dir may hold a .env or .git.
		if name != "." && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || strings.HasSuffix(name, ".br") || strings.HasSuffix(name, ".gz") {
			return nil
		}
		f := &siteFile{contentType: contentType(name)}
		for _, enc := range encodings {
			if etag, err := hashFile(fsys, name+enc.ext); err == nil {
				f.variants = append(f.variants, siteVariant{name + enc.ext, enc.name, etag})
			}
		}
		etag, err := hashFile(fsys, name)
		if err != nil {
			return err
		}
		f.variants = append(f.variants, siteVariant{name, "", etag})
		h.files[name] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("index site: %w", err)
	}
	return h, nil
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
	f, ok := h.files[name]
	if !ok {
		// A folder with an index.html (the workshop's pages): served at
		// its path with a slash, so that its relative links work.
		if _, dir := h.files[path.Join(name, "index.html")]; dir && name != "" {
			if !strings.HasSuffix(r.URL.Path, "/") {
				http.Redirect(w, r, "/"+name+"/", http.StatusMovedPermanently)
				return
			}
			f, ok = h.files[path.Join(name, "index.html")]
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
