enum _PlaceholderLead {}
