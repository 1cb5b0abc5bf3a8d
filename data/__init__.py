"""The records and the rules on them. Headless: never imports Textual, Rich, httpx, serial or escpos."""
