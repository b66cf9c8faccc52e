package server

import (
	"fmt"
	"net/http"

	"github.com/berthvm/berth/runtime/image"
)

// checkPlatform refuses a platform= (of a pull) that this machine cannot
// run, naming the ones it runs; "" is this machine's.
func checkPlatform(platform string) error {
	if platform == "" {
		return nil
	}
	p, err := image.ParsePlatform(platform)
	if err != nil {
		return WithStatus(http.StatusBadRequest, err)
	}
	if err := image.CheckPlatform(p); err != nil {
		return WithStatus(http.StatusBadRequest, err)
	}
	return nil
}

// checkImagePlatform refuses to make a container of img (found as ref)
// that this machine cannot run, and, when the request names a platform,
// answers an image of another platform with 404 as Docker does, so that
// clients (docker run --platform, berth run --platform) pull the one
// asked for. An image whose config names no platform passes.
func checkImagePlatform(ref string, img image.Image, platform string) error {
	if err := checkPlatform(platform); err != nil {
		return err
	}
	have, named := image.ConfigPlatform(img.Config.OS, img.Config.Architecture, img.Config.Variant)
	if !named {
		return nil
	}
	if platform != "" {
		want, _ := image.ParsePlatform(platform)
		if !image.PlatformMatches(have, want) {
			return Errorf(http.StatusNotFound, "image with reference %s was found but does not match the specified platform: wanted %s, actual: %s",
				ref, image.PlatformString(want), image.PlatformString(have))
		}
	}
	if err := image.CheckPlatform(have); err != nil {
		own := image.PlatformString(image.DefaultPlatform())
		return WithStatus(http.StatusBadRequest, fmt.Errorf("image %s: %w; or pull the image for this machine (berth pull --platform %s %s)", ref, err, own, ref))
	}
	return nil
}
