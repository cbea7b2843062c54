"""Import every group module so that `request_class` knows every command."""

from smpkit.protocol.groups import enumeration, fs, image, os, settings, shell, stat, user, zephyr

__all__ = ["enumeration", "fs", "image", "os", "settings", "shell", "stat", "user", "zephyr"]
