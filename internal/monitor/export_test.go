package monitor

// FastMoment exposes fastMoment to the fuzz test.
var FastMoment = fastMoment
