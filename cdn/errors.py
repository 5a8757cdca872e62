"""Why an image could not be stored, split into errors worth retrying and errors that are not."""

from config.errors import ApplicationError


class ImageSourceError(ApplicationError):
    """Fetching or decoding a source image failed. ``transient`` says whether a retry may help."""

    transient = False

    @property
    def category(self) -> str:
        return "transient" if self.transient else "permanent"


class PermanentImageError(ImageSourceError):
    """Retrying will not help: refused address, bad content type, too big, not an image, 4xx."""

    status_code = 422
    default_code = "image_rejected"
    transient = False


class TransientImageError(ImageSourceError):
    """The source may answer later: timeouts, connection errors, 5xx, 429."""

    status_code = 503
    default_code = "image_unavailable"
    transient = True
