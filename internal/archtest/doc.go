// Package archtest holds tests that keep the source tree in the shape docs/ARCHITECTURE.md
// describes. It has no code of its own; its tests read the Go files of the module with
// go/parser and check:
//
//   - import direction: every package under internal/ and cmd/ has a layer (layers_test.go),
//     imports only lower layers, and imports a package of its own layer, or one business line
//     another, only through an edge listed with its reason;
//   - SQL stays in stores: SQL string literals appear only in store files and the platform
//     packages that are their own stores, apart from an allowlist of today's files that may
//     only shrink (sql_test.go);
//   - file size: no hand-written .go file grows past 800 lines, apart from an allowlist of
//     today's longer files that may only shrink (size_test.go).
//
// go test ./internal/archtest/ -update prints the tables as the tree has them now, to paste
// into the tests when code has moved.
package archtest
