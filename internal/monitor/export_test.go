package monitor

// FastMoment exposes fastMoment to the fuzz test.
var FastMoment = fastMoment

// SetSubjectsPerLoad sets how many persons the rules load at a time and
// returns a function that restores it.
func SetSubjectsPerLoad(n int) func() {
	old := subjectsPerLoad
	subjectsPerLoad = n
	return func() { subjectsPerLoad = old }
}
