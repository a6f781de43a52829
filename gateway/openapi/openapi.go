// Package openapi holds camgate's OpenAPI 3.1 document: every REST route the
// gateway serves, with the shapes of its answers. The gateway serves it at
// GET /API/openapi.json; the gateway's test suite validates every response
// it receives against it, so a change to a route or an answer that is not
// made here too fails the tests.
package openapi

import _ "embed"

// Document is the OpenAPI document, JSON.
//
//go:embed openapi.json
var Document []byte
