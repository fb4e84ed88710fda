package host_test

import (
	"os"
	"path/filepath"
	"runtime/pprof"
)

// startChildProfile writes a CPU profile of a test host process to
// $WARREN_HOST_TEST_PROFILE/host-<pid>.prof when that variable is set (for
// benchmarks). The file is opened before the host confines itself.
func startChildProfile() func() {
	dir := os.Getenv("WARREN_HOST_TEST_PROFILE")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, "host-"+itoa(os.Getpid())+".prof"))
	if err != nil {
		return func() {}
	}
	pprof.StartCPUProfile(f)
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
