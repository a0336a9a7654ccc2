//go:build !race

package reliability

// raceSchedules is unused without the race detector (see race_on_test.go).
const raceSchedules = 0
