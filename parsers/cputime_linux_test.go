package parsers

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuClock measures the CPU time of the calling thread, so that a
// benchmark on a busy machine still reports its own cost. It locks the
// goroutine to its thread until stop.
type cpuClock struct{ start time.Duration }

// rusageThread is Linux's RUSAGE_THREAD.
const rusageThread = 1

func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock {
	runtime.LockOSThread()
	return cpuClock{start: threadCPU()}
}

// report adds the throughput per CPU second of bytes and lines to b.
func (c cpuClock) report(b *testing.B, bytes, lines int64) {
	d := threadCPU() - c.start
	runtime.UnlockOSThread()
	if d <= 0 {
		return
	}
	b.ReportMetric(float64(bytes)/1e6/d.Seconds(), "cpu-MB/s")
	b.ReportMetric(float64(lines)/d.Seconds(), "cpu-lines/s")
}
