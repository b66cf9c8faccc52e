// Package bootstrap takes a machine whose VM runs to a ready agent: its SSH key, the SSH wait, provisioning and the agent's health.
package bootstrap
