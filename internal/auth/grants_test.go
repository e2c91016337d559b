package auth_test

import (
	"testing"

	"minzheng/internal/auth"
)

// TestRegisterGrants: a line's grants give its permissions to the roles it
// names and to no other, and registering twice is harmless.
func TestRegisterGrants(t *testing.T) {
	const read, sign auth.Permission = "test_line.read", "test_line.sign"
	clerk := auth.Principal{Role: auth.Clerk, Division: "310104"}
	approver := auth.Principal{Role: auth.Approver, Division: "310104"}
	if clerk.Can(read) {
		t.Fatal("an unregistered permission is granted")
	}
	g := auth.Grants{auth.Clerk: {read}, auth.Approver: {read, sign}}
	auth.Register(g)
	auth.Register(g)
	if !clerk.Can(read) || clerk.Can(sign) || !approver.Can(sign) {
		t.Errorf("after auth.Register: clerk read %v sign %v, approver sign %v", clerk.Can(read), clerk.Can(sign), approver.Can(sign))
	}
	if (auth.Principal{Role: auth.Auditor}).Can(read) {
		t.Error("a role the grants do not name holds the permission")
	}
	if !clerk.Can(auth.PersonRead) {
		t.Error("the platform's table no longer applies")
	}
}
