// Package httpjson writes the JSON answers of the server's HTTP API: a
// value, or an error in the shape of [shared.APIError].
package httpjson

import (
	"encoding/json"
	"net/http"

	"wsplay/shared"
)

// Write answers with status and v as JSON. API answers are never cached.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// Error answers with status and {"error":{"code":code,"message":msg}}.
func Error(w http.ResponseWriter, status int, code shared.ErrorCode, msg string) {
	Write(w, status, shared.APIError{Error: shared.APIErrorDetail{Code: code, Message: msg}})
}
