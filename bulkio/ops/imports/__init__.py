"""Imports: rows read and mapped, journalled before they are sent, sent one lead or a
verified batch at a time, lost answers settled from the client's own listing."""
