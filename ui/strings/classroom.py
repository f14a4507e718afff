"""Classroom mode strings: the errors of the classroom store (``ui.classroom``)."""

EN = {
    "error.class_not_found": "There is no class with the code {class_code}, or it has ended. Check the code with your teacher.",
    "error.class_full": "This class is full: it already has {limit} students.",
    "error.too_many_classes": "This server already has {limit} classes running. Please try again later.",
    "error.bad_class_name": "A class name needs 1 to {limit} characters.",
    "error.bad_class_expiry": "A class can last from {low_minutes} minutes to {high_hours} hours.",
    "error.bad_display_name": "Please type a name of 1 to {limit} characters.",
    "error.member_not_found": "You are no longer in this class. Please join it again with its code.",
    "error.bad_preset": "The class settings must be a set of named values.",
    "error.preset_too_large": "The class settings take {size} bytes; at most {limit} are allowed.",
    "error.teacher_only": "Only the class's teacher can do this (open the teacher link).",
}

ZH = {
    "error.class_not_found": "没有代码为 {class_code} 的班级，或者它已经结束了。请和老师核对一下代码。",
    "error.class_full": "这个班级已满：已经有 {limit} 名学生了。",
    "error.too_many_classes": "服务器上已经有 {limit} 个班级在进行。请稍后再试。",
    "error.bad_class_name": "班级名称需要 1 到 {limit} 个字符。",
    "error.bad_class_expiry": "一个班级的时长可以是 {low_minutes} 分钟到 {high_hours} 小时。",
    "error.bad_display_name": "请输入 1 到 {limit} 个字符的名字。",
    "error.member_not_found": "你已经不在这个班级里了。请用班级代码重新加入。",
    "error.bad_preset": "班级设置必须是一组带名字的值。",
    "error.preset_too_large": "班级设置占 {size} 字节，最多只能 {limit} 字节。",
    "error.teacher_only": "只有这个班级的老师才能这样做（请打开老师链接）。",
}
