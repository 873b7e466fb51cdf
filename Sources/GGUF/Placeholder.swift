// GGUF: see GGUFFile.swift
