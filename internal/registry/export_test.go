package registry

// StreamPersonsForTest exposes streamPersons to the tests.
var StreamPersonsForTest = streamPersons
