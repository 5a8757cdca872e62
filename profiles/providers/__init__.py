"""Scraping providers, chosen by SCRAPER_PROVIDER."""
