# suite/ runs inside a fresh virtualenv holding only the built og-records wheel (test_sdk_wheel.py), never here.
collect_ignore = ["suite"]
