package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRegisterSharesTheFirstCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	newCounter := func() prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "clubhouse_test_total", Help: "test"})
	}
	first, err := Register(reg, newCounter())
	if err != nil {
		t.Fatal(err)
	}
	second, err := Register(reg, newCounter())
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Error("a second registration got its own collector, whose counts no one exports")
	}
	// Another kind under the same name is an error, not a silent drop.
	if _, err := Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "clubhouse_test_total", Help: "test"})); err == nil {
		t.Error("a clashing collector was accepted")
	}
}
