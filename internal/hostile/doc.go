// Package hostile holds the hostile-app corpus: apps and requests written
// to break Warren (busy loops, memory bombs, SSRF, SQL escapes, prototype
// tampering, malformed deploys and requests, ...), each with the outcome it
// must get. The cases live in testdata/hostile at the repository root (one
// app per file, its expected outcome in a comment header) and in
// hostile_test.go (the cases that are not an app: malformed deploys, odd
// app ids, slow uploads). The test runs them all against a real server on
// loopback, beside a bystander app whose counter must stay exact.
//
// Run the corpus with
//
//	go test ./internal/hostile/
//
// (-v prints the table of cases and the bystander's latency). The package
// has no non-test code.
package hostile
