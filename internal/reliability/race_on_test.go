//go:build race

package reliability

// raceSchedules is how many schedules a test plays by default under the
// race detector, which makes each one several times slower: enough to
// catch a data race in every path, not a second soak.
const raceSchedules = 30
