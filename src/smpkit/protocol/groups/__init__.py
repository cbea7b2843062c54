"""Typed request and response models, one module per SMP group."""

from __future__ import annotations

from enum import IntEnum


class Group(IntEnum):
    OS = 0
    IMAGE = 1
    STAT = 2
    SETTINGS = 3
    LOG = 4
    CRASH = 5
    SPLIT = 6
    RUN = 7
    FS = 8
    SHELL = 9
    ENUM = 10
    TRANSPORT = 11
    ZEPHYR_BASIC = 63
    USER = 64
