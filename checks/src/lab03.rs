//! (placeholder: lab 3 helper replaces this file)
