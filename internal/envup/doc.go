// Package envup brings a team environment (teamenv) up and down: its
// machines in parallel, then each machine's compose services through its
// agent, in the order depends-on gives, and says what it would change.
package envup
