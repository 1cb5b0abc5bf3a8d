"""App-wide messages: results of background work, posted from workers and handled with @on."""

from __future__ import annotations

from textual.message import Message


class ReceiptPrinted(Message):
    def __init__(self, receipt_number: str) -> None:
        super().__init__()
        self.receipt_number = receipt_number


class PrintFailed(Message):
    def __init__(self, receipt_number: str, error: str) -> None:
        super().__init__()
        self.receipt_number = receipt_number
        self.error = error
