package vboxdouble

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

func init() {
	handlers["createmedium"] = createMedium
	handlers["closemedium"] = closeMedium
}

const progress = "0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%\n"

func createMedium(e *env, args []string) error {
	p, err := getopt(args, spec.Commands["createmedium"].Options, e.ver, true, 2)
	if err != nil {
		return err
	}
	kind := "disk"
	for _, o := range p.opts {
		if o.Name == "dvd" || o.Name == "floppy" {
			kind = o.Name
		}
	}
	var pos []string
	for _, a := range p.pos {
		switch a {
		case "disk", "dvd", "floppy":
			kind = a
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) > 0 {
		return &usageError{"Invalid parameter '" + pos[0] + "'", 2}
	}
	file, ok := p.get("--filename")
	if !ok {
		return &usageError{"Parameter --filename is required", 2}
	}
	if kind != "disk" {
		return notImplemented("createmedium " + kind)
	}
	format, _ := p.get("--format")
	if format == "" {
		format = "VDI"
	}
	if !strings.EqualFold(format, "VDI") {
		return notImplemented("createmedium --format " + format + " (only VDI)")
	}
	var size uint64
	if s, ok := p.get("--size"); ok {
		size, _ = strconv.ParseUint(s, 0, 64)
		size <<= 20
	} else if s, ok := p.get("--sizebyte"); ok {
		size, _ = strconv.ParseUint(s, 0, 64)
	} else {
		return &usageError{"Parameter --size is required", 2}
	}
	if filepath.Ext(file) == "" {
		file += ".vdi"
	}
	path, _ := filepath.Abs(file)
	if _, err := os.Stat(path); err == nil || e.st.findMedium(path) != nil {
		fmt.Fprint(e.stderr, "0%...\nVBOX_E_FILE_ERROR\n")
		return apiError("Failed to create medium", "VBOX_E_FILE_ERROR (0x80bb0004)", "MediumWrap", "IMedium",
			`"CreateBaseStorage(size, ComSafeArrayAsInParam(l), pProgress.asOutParam())" at line 462 of file VBoxManageDisk.cpp`)
	}
	fixed := false
	if v, ok := p.get("--variant"); ok && strings.Contains(strings.ToLower(v), "fixed") || p.has("--static") {
		fixed = true
	}
	qargs := []string{"create", "-q", "-f", "vdi"}
	if fixed {
		qargs = append(qargs, "-o", "static=on")
	}
	qargs = append(qargs, path, strconv.FormatUint(size, 10))
	var errb bytes.Buffer
	cmd := exec.Command("qemu-img", qargs...)
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		fmt.Fprint(e.stderr, "0%...\nVBOX_E_FILE_ERROR\n")
		return apiError(fmt.Sprintf("Failed to create medium\nCould not create the medium storage unit '%s'.\nVD: error VERR_PATH_NOT_FOUND creating image (%s)", path, strings.TrimSpace(errb.String()+" "+err.Error())),
			"VBOX_E_FILE_ERROR (0x80bb0004)", "MediumWrap", "IMedium", `"CreateBaseStorage(...)" at line 462 of file VBoxManageDisk.cpp`)
	}
	m := &medium{UUID: newUUID(), Path: path, Kind: "disk", Format: "VDI"}
	e.st.Media = append(e.st.Media, m)
	e.changed = true
	fmt.Fprint(e.stderr, progress)
	fmt.Fprintf(e.stdout, "Medium created. UUID: %s\n", m.UUID)
	return nil
}

func closeMedium(e *env, args []string) error {
	p, err := getopt(args, spec.Commands["closemedium"].Options, e.ver, true, 2)
	if err != nil {
		return err
	}
	var pos []string
	for _, a := range p.pos {
		if a != "disk" && a != "dvd" && a != "floppy" {
			pos = append(pos, a)
		}
	}
	if len(pos) == 0 {
		return &usageError{"Medium name or UUID required", 2}
	}
	if len(pos) > 1 {
		return &usageError{"Invalid parameter '" + pos[1] + "'", 2}
	}
	arg := pos[0]
	if !strings.Contains(arg, "-") || strings.ContainsAny(arg, "/\\.") {
		arg, _ = filepath.Abs(arg)
	}
	m := e.st.findMedium(arg)
	if m == nil {
		return apiError("Could not find file for the medium '"+arg+"' (VERR_FILE_NOT_FOUND)", "VBOX_E_FILE_ERROR (0x80bb0004)", "MediumWrap", "IMedium",
			`"OpenMedium(Bstr(pszFilenameOrUuid).raw(), enmDevType, AccessMode_ReadWrite, fForceNewUuidOnOpen, pMedium.asOutParam())" at line 1766 of file VBoxManageDisk.cpp`)
	}
	if m.Attached != "" {
		return apiError("Medium '"+m.Path+"' cannot be closed because it is still attached to 1 virtual machines", "VBOX_E_OBJECT_IN_USE (0x80bb000c)", "MediumWrap", "IMedium", `"Close()" at line 1833 of file VBoxManageDisk.cpp`)
	}
	if p.has("--delete") {
		os.Remove(m.Path)
		fmt.Fprint(e.stderr, progress)
	}
	for i, x := range e.st.Media {
		if x == m {
			e.st.Media = append(e.st.Media[:i], e.st.Media[i+1:]...)
			break
		}
	}
	e.changed = true
	return nil
}
