"""Transcoder: probe originals, make court-playable proxies, thumbnails and perceptual fingerprints.

Plain typed functions (``service.process_file``) do the work; dramatiq actors (``actors``) are thin
wrappers. Originals are only ever read; every derivative is reproducible and recorded (I7).
"""
